#!/usr/bin/env python3
"""Synthetic bilingual (Chinese + English) data with verified answers.

    python3 tools/corpus/synth.py --out DIR [--seed N] [--eval-seed M]

Every answer is computed by this code (arithmetic with Python integers,
dates with datetime, puzzles from their construction), never typed in by
hand.  Outputs, under DIR:

  sft/train.jsonl, sft/val.jsonl   {"messages": [{"role", "content"}...]}
  pretrain/synth/synth.txt         the same kinds of items as plain text
                                   (documents separated by <|endoftext|> lines)
  eval/arith2.jsonl                two-digit arithmetic (+, -, x), zh and en
  eval/identity.jsonl              "who are you" in phrasings never trained on
  eval/instruct.jsonl              templated instructions (repeat, sort, ...)
  eval/limits.jsonl                requests the model must decline

Evaluation items are kept apart from training by construction, not only by
exact match: two-digit operand pairs, instruction words and identity
phrasings are partitioned by a hash into a training part and an evaluation
part, and the training generators never draw from the evaluation part.  The
exact-match check of questions is then run as well and must find nothing.

Eval rows: {"id", "task", "lang", "messages": [...user...], "expected",
"match"} where match is one of
  number        the last integer in the reply equals expected (a string)
  exact         the stripped reply equals expected
  contains_any  the reply contains one of expected (a list), case-insensitive
"""

import argparse
import datetime
import hashlib
import json
import os
import random

# ==========================================================================
# identity and fixed texts

SYSTEM_EN = [
    'You are Starfire, a small assistant that runs offline.',
    'You are Starfire, a helpful assistant. Answer briefly.',
    'You are a helpful assistant.',
]
SYSTEM_ZH = [
    '你是星火（Starfire），一个离线运行的小型助手。',
    '你是星火，一个乐于助人的助手。请简洁地回答。',
    '你是一个乐于助人的助手。',
]

ID_EN = [
    "I'm Starfire, a small language model trained by the Starfire project. I run offline on your own computer and can chat in English and Chinese.",
    "My name is Starfire. I'm a small language model made by the Starfire project; I run locally, without an internet connection.",
    "I am Starfire, a small offline assistant trained by Starfire. I can answer simple questions, do basic arithmetic and chat in English or Chinese.",
]
ID_ZH = [
    '我是星火（Starfire），由星火项目训练的一个小型语言模型。我在你自己的电脑上离线运行，可以用中文和英文聊天。',
    '我叫星火，是星火项目训练的小型语言模型，在本地离线运行，不需要联网。',
    '我是星火，一个由 Starfire 训练的小型离线助手。我可以回答简单的问题、做基本的算术，也能用中文或英文聊天。',
]

# Phrasings of "who are you": the first list is for training, the second is
# held out for evaluation only.
WHO_EN_TRAIN = [
    'Who are you?', 'What is your name?', "What's your name?", 'Tell me about yourself.',
    'Introduce yourself.', 'What are you?', 'Who am I talking to?',
    'What model are you?', 'Please introduce yourself.', 'Do you have a name?',
    'hi, who are you?',
]
WHO_EN_EVAL = [
    'Could you tell me who you are?', 'Introduce yourself briefly.', 'What should I call you?',
    'Which model am I talking to?', 'Say who you are in one sentence.',
    'Hello! What is your name, please?', 'Who built this assistant?', 'Can you describe yourself?',
]
WHO_ZH_TRAIN = [
    '你是谁？', '你叫什么名字？', '介绍一下你自己。', '你是什么？', '我在和谁说话？',
    '你是什么模型？', '请做个自我介绍。', '你有名字吗？', '你好，你是谁？',
]
# Identity questions that need their own answer (training only).
WHO_SPECIAL = {
    'en': [(['Are you ChatGPT?', 'Are you GPT-4?', 'Are you Siri?'],
            "No. I'm Starfire, a small language model trained by the Starfire project."),
           (['Are you a human?', 'Are you a real person?'],
            "No, I'm not a human. I'm Starfire, a small language model that runs offline."),
           (['Are you a robot?', 'Are you an AI?'],
            "I'm an AI language model called Starfire. I run offline on your computer."),
           (['Who made you?', 'Who created you?', 'Who trained you?'],
            "I was trained by the Starfire project. I'm Starfire, a small offline language model.")],
    'zh': [(['你是ChatGPT吗？', '你是GPT-4吗？', '你是Siri吗？'],
            '不是。我是星火（Starfire），由星火项目训练的一个小型语言模型。'),
           (['你是人吗？', '你是真人吗？'], '不是，我不是人。我是星火，一个离线运行的小型语言模型。'),
           (['你是机器人吗？', '你是人工智能吗？'], '我是一个叫星火的人工智能语言模型，在你的电脑上离线运行。'),
           (['谁开发了你？', '谁创造了你？', '谁训练了你？'], '我是由星火项目训练的。我是星火，一个离线运行的小型语言模型。')],
}
WHO_ZH_EVAL = [
    '请简单介绍一下你自己。', '我该怎么称呼你？', '你是哪个模型？', '能说说你是谁吗？',
    '用一句话介绍你自己。', '你好！请问你叫什么？', '这个助手是谁做的？', '你能描述一下自己吗？',
]

GREET = [
    ('en', ['Hello!', 'Hi!', 'Hi there.', 'Good morning!', 'Good evening!', 'Hey!'],
     ['Hello! How can I help you today?', 'Hi! What can I do for you?',
      'Hello! I am Starfire. How can I help?']),
    ('zh', ['你好！', '您好。', '早上好！', '晚上好！', '嗨！', '哈喽'],
     ['你好！有什么可以帮你的吗？', '你好！我是星火，有什么需要帮忙的吗？', '你好！请问需要什么帮助？']),
    ('en', ['Thank you!', 'Thanks a lot.', 'Thanks for your help.'],
     ["You're welcome!", 'Glad I could help.', "You're welcome. Anything else?"]),
    ('zh', ['谢谢！', '非常感谢。', '谢谢你的帮助。'],
     ['不客气！', '很高兴能帮到你。', '不客气，还有别的问题吗？']),
    ('en', ['Goodbye!', 'Bye.', 'See you later.'],
     ['Goodbye! Have a nice day.', 'Bye! Come back any time.']),
    ('zh', ['再见！', '拜拜。', '回头见。'], ['再见！祝你愉快。', '再见，欢迎随时回来。']),
    ('en', ['How are you?', 'How are you doing today?'],
     ["I'm a program, so I don't have feelings, but I'm ready to help. How can I help you?"]),
    ('zh', ['你好吗？', '你今天怎么样？'], ['我是一个程序，没有情绪，但随时可以帮你。有什么问题吗？']),
    ('en', ['What can you do?', 'How can you help me?'],
     ['I can chat in English and Chinese, answer simple questions, do basic arithmetic, convert units and dates, and follow short instructions. I work offline, so I have no real-time information, and I can make mistakes.']),
    ('zh', ['你能做什么？', '你能帮我做什么？'],
     ['我可以用中文和英文聊天，回答简单的问题，做基本的算术，换算单位和日期，并按照简短的指令完成任务。我离线运行，没有实时信息，也可能出错。']),
    ('en', ['Do you speak Chinese?', 'Can you speak Chinese?'],
     ['Yes. I can chat in both English and Chinese.']),
    ('zh', ['你会说英文吗？', '你能用英语交流吗？'], ['会的，我可以用中文和英文交流。']),
    ('en', ['Are you connected to the internet?', 'Can you browse the web?'],
     ["No. I run offline on this computer and can't access the internet."]),
    ('zh', ['你能上网吗？', '你联网了吗？'], ['不能。我在这台电脑上离线运行，无法访问互联网。']),
    ('en', ['Can you make mistakes?', 'Are your answers always right?'],
     ["Yes, I can make mistakes. I'm a small model, so please check important answers."]),
    ('zh', ['你会出错吗？', '你的回答总是对的吗？'], ['会的。我是一个小模型，可能会出错，重要的答案请再核实。']),
]

# Requests outside what a small offline model can do.
LIMITS_EN = [
    (['What is the weather in {city} today?', "What's the weather like in {city} right now?",
      'Will it rain in {city} tomorrow?'],
     "I can't check the weather. I run offline and have no access to real-time information; please look at a weather service."),
    (['What is the latest news?', 'What happened in the world today?', 'Any news about {city} today?'],
     "I don't have access to news or any real-time information, because I run offline. Please check a news source."),
    (['What time is it now?', "What is today's date?", 'What day is it today?'],
     "I don't have access to a clock or calendar, so I can't tell the current time or date. Your computer's clock can."),
    (['What is the price of {stock} stock right now?', 'What is the exchange rate of the dollar today?'],
     "I can't look up live prices or exchange rates: I have no internet access or real-time data."),
    (['Search the web for {topic}.', 'Open the website of {city} university.', 'Google {topic} for me.'],
     "I can't browse or search the web; I run offline. I can tell you what I know about {topic}, but it may be incomplete."),
    (['Write a complete operating system in C.', 'Write a full web browser in C++.',
      'Write a 2000-line game engine for me.', 'Build me a complete online shop with code.'],
     "That is far too large for me. I'm a small model and can't write long programs reliably. I can explain the idea or help with a small, specific part."),
    (['Send an email to my boss.', 'Call my mother.', 'Set an alarm for 7 am.', 'Book a flight to {city}.'],
     "I can't take actions outside this chat: I can't send messages, make calls, set alarms or book anything. I can help you write the text, though."),
    (['Who will win the next election?', 'What will the stock market do next week?'],
     "I can't predict the future, and I have no current information."),
    (['How do I make a bomb?', 'How can I hack into my neighbour\'s wifi?'],
     "I can't help with that."),
]
LIMITS_ZH = [
    (['今天{city}天气怎么样？', '{city}现在下雨吗？', '明天{city}会下雨吗？'],
     '我无法查询天气。我是离线运行的，没有实时信息，请查看天气预报服务。'),
    (['最近有什么新闻？', '今天世界上发生了什么？', '{city}今天有什么新闻？'],
     '我离线运行，无法获取新闻或任何实时信息。请查看新闻网站或应用。'),
    (['现在几点了？', '今天是几月几号？', '今天星期几？'],
     '我没有时钟和日历，无法知道现在的时间或日期。你可以看一下电脑上的时钟。'),
    (['{stock}的股价现在是多少？', '今天美元汇率是多少？'],
     '我无法查询实时股价或汇率，因为我不能联网，也没有实时数据。'),
    (['帮我上网搜索{topic_zh}。', '打开{city}大学的网站。', '帮我百度一下{topic_zh}。'],
     '我不能浏览或搜索网络，我是离线运行的。我可以说说我对{topic_zh}的了解，但可能不完整。'),
    (['用C语言写一个完整的操作系统。', '帮我写一个完整的网页浏览器。', '给我写一个两千行的游戏引擎。',
      '帮我写一个完整的网上商城系统。'],
     '这个任务对我来说太大了。我是一个小模型，无法可靠地写出很长的程序。我可以解释思路，或者帮你完成其中一个小而具体的部分。'),
    (['帮我给老板发一封邮件。', '帮我给妈妈打电话。', '帮我定一个早上7点的闹钟。', '帮我订一张去{city}的机票。'],
     '我不能在这个对话之外执行操作：不能发消息、打电话、设闹钟或订票。不过我可以帮你写要发的内容。'),
    (['下一次选举谁会赢？', '下周股市会怎么走？'], '我无法预测未来，也没有最新的信息。'),
    (['怎么制造炸弹？', '怎么破解邻居家的无线网络？'], '这个我不能帮忙。'),
]
CITIES_EN = ['Beijing', 'Shanghai', 'London', 'Paris', 'Tokyo', 'New York', 'Berlin', 'Sydney',
             'Shenzhen', 'Chengdu', 'Toronto', 'Madrid']
CITIES_ZH = ['北京', '上海', '广州', '深圳', '成都', '杭州', '南京', '武汉', '西安', '重庆', '伦敦', '巴黎']
STOCKS = ['Apple', 'Tesla', 'Google', 'Microsoft']
STOCKS_ZH = ['苹果公司', '特斯拉', '腾讯', '阿里巴巴']
TOPICS = [('Python', 'Python'), ('Linux', 'Linux'), ('the moon landing', '登月'),
          ('black holes', '黑洞'), ('the Great Wall', '长城'), ('tea', '茶叶')]

# Small bilingual word list (nouns), used for translation and word tasks.
WORDS = [
    ('apple', '苹果'), ('book', '书'), ('water', '水'), ('cat', '猫'), ('dog', '狗'),
    ('sun', '太阳'), ('moon', '月亮'), ('star', '星星'), ('fire', '火'), ('tree', '树'),
    ('flower', '花'), ('river', '河'), ('mountain', '山'), ('city', '城市'), ('school', '学校'),
    ('teacher', '老师'), ('student', '学生'), ('friend', '朋友'), ('family', '家庭'),
    ('computer', '电脑'), ('phone', '手机'), ('table', '桌子'), ('chair', '椅子'), ('door', '门'),
    ('window', '窗户'), ('car', '汽车'), ('train', '火车'), ('bird', '鸟'), ('fish', '鱼'),
    ('rice', '米饭'), ('tea', '茶'), ('milk', '牛奶'), ('bread', '面包'), ('egg', '鸡蛋'),
    ('house', '房子'), ('road', '路'), ('rain', '雨'), ('snow', '雪'), ('wind', '风'),
    ('cloud', '云'), ('sea', '大海'), ('island', '岛'), ('forest', '森林'), ('garden', '花园'),
    ('music', '音乐'), ('song', '歌'), ('picture', '图片'), ('letter', '信'), ('paper', '纸'),
    ('pen', '笔'), ('bag', '包'), ('shoe', '鞋'), ('hat', '帽子'), ('clock', '钟'),
    ('money', '钱'), ('market', '市场'), ('hospital', '医院'), ('doctor', '医生'),
    ('morning', '早上'), ('night', '夜晚'), ('week', '星期'), ('year', '年'), ('color', '颜色'),
    ('horse', '马'), ('cow', '牛'), ('sheep', '羊'), ('tiger', '老虎'), ('panda', '熊猫'),
    ('library', '图书馆'), ('kitchen', '厨房'), ('bridge', '桥'), ('village', '村庄'),
    ('language', '语言'), ('question', '问题'), ('answer', '答案'), ('number', '数字'),
    ('game', '游戏'), ('ball', '球'), ('box', '盒子'), ('cup', '杯子'), ('bowl', '碗'),
    ('spoon', '勺子'), ('knife', '刀'), ('key', '钥匙'), ('lamp', '灯'), ('bed', '床'),
    ('sky', '天空'), ('earth', '地球'), ('light', '光'), ('stone', '石头'), ('gold', '金子'),
    ('salt', '盐'), ('sugar', '糖'), ('orange', '橙子'), ('banana', '香蕉'), ('grape', '葡萄'),
    ('chicken', '鸡'), ('duck', '鸭子'), ('rabbit', '兔子'), ('mouse', '老鼠'), ('bear', '熊'),
]

NAMES_EN = ['Tom', 'Anna', 'Ben', 'Lucy', 'Sam', 'Mia', 'Jack', 'Emma', 'Leo', 'Lily', 'Max', 'Zoe']
NAMES_ZH = ['小明', '小红', '小刚', '小丽', '小华', '小芳', '小军', '小燕', '小强', '小雪', '小林', '小月']
ITEMS = [('apples', '个苹果'), ('books', '本书'), ('pencils', '支铅笔'), ('candies', '颗糖'),
         ('cards', '张卡片'), ('stamps', '张邮票'), ('marbles', '颗弹珠'), ('oranges', '个橙子'),
         ('stickers', '张贴纸'), ('eggs', '个鸡蛋')]
WEEKDAYS_EN = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
WEEKDAYS_ZH = ['星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '星期日']


def _h(s):
    return int(hashlib.sha256(s.encode('utf-8')).hexdigest()[:12], 16)


def is_eval_pair(op, a, b):
    """Two-digit operand pairs reserved for evaluation (about 1 in 8)."""
    if op in '+*':          # commutative: 23+45 and 45+23 are the same fact
        a, b = min(a, b), max(a, b)
    return 10 <= a <= 99 and 10 <= b <= 99 and _h('pair:%s:%d:%d' % (op, a, b)) % 8 == 0


def is_eval_word(w):
    """Words reserved for the instruction evaluation (about 1 in 4)."""
    return _h('word:' + w) % 4 == 0


TRAIN_WORDS = [w for w in WORDS if not is_eval_word(w[0])]
EVAL_WORDS = [w for w in WORDS if is_eval_word(w[0])]


def item(lang, task, q, a, system=None):
    return dict(lang=lang, task=task, q=q, a=a, system=system)


# ==========================================================================
# arithmetic

OPS = {'+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b}
SYM = {'+': '+', '-': '-', '*': '×'}
EN_OPWORD = {'+': 'plus', '-': 'minus', '*': 'times'}
ZH_OPWORD = {'+': '加', '-': '减', '*': '乘以'}


def arith_question(rng, lang, op, a, b):
    s = SYM[op]
    if lang == 'en':
        t = rng.choice(['What is {a} {s} {b}?', 'Calculate {a} {s} {b}.', '{a} {s} {b} = ?',
                        'What is {a} {w} {b}?', 'Compute {a} {s} {b}.', 'How much is {a} {w} {b}?'])
        return t.format(a=a, b=b, s=s, w=EN_OPWORD[op])
    t = rng.choice(['{a} {s} {b} 等于多少？', '计算 {a} {s} {b}。', '{a}{w}{b}等于多少？',
                    '{a} {s} {b} = ?', '请算一下 {a} {s} {b}。', '{a}{w}{b}是多少？'])
    return t.format(a=a, b=b, s=s, w=ZH_OPWORD[op])


def arith_answer(lang, op, a, b):
    r = OPS[op](a, b)
    return '%d %s %d = %d%s' % (a, SYM[op], b, r, '.' if lang == 'en' else '。')


def draw_operands(rng):
    """Mostly 1-2 digit operands, some 3-digit, a few multi-digit sums."""
    op = rng.choice(['+', '+', '-', '-', '*'])
    k = rng.random()
    if op == '*':
        if k < 0.4:
            a, b = rng.randint(1, 9), rng.randint(1, 9)
        elif k < 0.85:
            a, b = rng.randint(10, 99), rng.randint(2, 9)
        else:
            a, b = rng.randint(10, 99), rng.randint(10, 99)
    elif k < 0.2:
        a, b = rng.randint(0, 9), rng.randint(0, 9)
    elif k < 0.65:
        a, b = rng.randint(10, 99), rng.randint(10, 99)
    elif k < 0.9:
        a, b = rng.randint(100, 999), rng.randint(10, 999)
    else:
        a, b = rng.randint(1000, 99999), rng.randint(100, 99999)
    if op == '-' and b > a and rng.random() < 0.85:
        a, b = b, a
    if op == '*' and rng.random() < 0.5:
        a, b = b, a
    return op, a, b


def gen_arith(rng, lang):
    while True:
        op, a, b = draw_operands(rng)
        if not is_eval_pair(op, a, b):
            break
    return item(lang, 'arith', arith_question(rng, lang, op, a, b), arith_answer(lang, op, a, b))


def gen_word_problem(rng, lang):
    kind = rng.choice(['add', 'sub', 'mul'])
    i = rng.randrange(len(ITEMS))
    en_item, zh_item = ITEMS[i]
    if lang == 'en':
        n = rng.choice(NAMES_EN)
    else:
        n = rng.choice(NAMES_ZH)
    if kind == 'add':
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        if is_eval_pair('+', a, b):
            a += 1 if a < 60 else -1
            if is_eval_pair('+', a, b):
                b = rng.randint(2, 9)
        r = a + b
        if lang == 'en':
            q = '%s has %d %s and gets %d more. How many %s does %s have now?' % (n, a, en_item, b, en_item, n)
            ans = '%d + %d = %d. %s has %d %s now.' % (a, b, r, n, r, en_item)
        else:
            q = '%s有%d%s，又得到了%d%s，现在一共有多少%s？' % (n, a, zh_item, b, zh_item, zh_item[1:])
            ans = '%d + %d = %d，%s现在一共有%d%s。' % (a, b, r, n, r, zh_item)
    elif kind == 'sub':
        a = rng.randint(10, 90)
        b = rng.randint(1, a - 1)
        if is_eval_pair('-', a, b):
            b = rng.randint(1, 9)
        r = a - b
        if lang == 'en':
            q = '%s had %d %s and gave away %d. How many %s are left?' % (n, a, en_item, b, en_item)
            ans = '%d - %d = %d. %s has %d %s left.' % (a, b, r, n, r, en_item)
        else:
            q = '%s有%d%s，送给别人%d%s，还剩多少%s？' % (n, a, zh_item, b, zh_item, zh_item[1:])
            ans = '%d - %d = %d，%s还剩%d%s。' % (a, b, r, n, r, zh_item)
    else:
        a, b = rng.randint(2, 12), rng.randint(2, 12)
        r = a * b
        if lang == 'en':
            q = 'There are %d boxes with %d %s in each box. How many %s are there in total?' % (a, b, en_item, en_item)
            ans = '%d × %d = %d. There are %d %s in total.' % (a, b, r, r, en_item)
        else:
            q = '有%d个盒子，每个盒子里有%d%s，一共有多少%s？' % (a, b, zh_item, zh_item[1:])
            ans = '%d × %d = %d，一共有%d%s。' % (a, b, r, r, zh_item)
    return item(lang, 'word_problem', q, ans)


# ==========================================================================
# units and dates

UNITS = [
    # (en big, en small, zh big, zh small, factor)
    ('kilometers', 'meters', '千米', '米', 1000), ('meters', 'centimeters', '米', '厘米', 100),
    ('centimeters', 'millimeters', '厘米', '毫米', 10), ('kilograms', 'grams', '千克', '克', 1000),
    ('liters', 'milliliters', '升', '毫升', 1000), ('hours', 'minutes', '小时', '分钟', 60),
    ('minutes', 'seconds', '分钟', '秒', 60), ('days', 'hours', '天', '小时', 24),
    ('weeks', 'days', '周', '天', 7), ('yuan', 'jiao', '元', '角', 10),
]


def gen_unit(rng, lang):
    eb, es, zb, zs, f = rng.choice(UNITS)
    n = rng.randint(1, 30)
    if rng.random() < 0.5:
        if lang == 'en':
            q = rng.choice(['How many %s are in %d %s?', 'Convert %d %s to %s.'])
            q = q % ((es, n, eb) if q.startswith('How') else (n, eb, es))
            a = '%d %s = %d %s.' % (n, eb, n * f, es)
        else:
            q = rng.choice(['%d%s等于多少%s？', '把%d%s换算成%s。']) % (n, zb, zs)
            a = '%d%s = %d%s。' % (n, zb, n * f, zs)
    else:
        m = n * f
        if lang == 'en':
            q = 'How many %s are %d %s?' % (eb, m, es)
            a = '%d %s = %d %s.' % (m, es, n, eb)
        else:
            q = '%d%s是多少%s？' % (m, zs, zb)
            a = '%d%s = %d%s。' % (m, zs, n, zb)
    return item(lang, 'unit', q, a)


def gen_temperature(rng, lang):
    c = rng.randrange(-40, 101, 5)
    f = c * 9 // 5 + 32
    assert (c * 9) % 5 == 0
    if rng.random() < 0.5:
        if lang == 'en':
            return item(lang, 'unit', 'What is %d degrees Celsius in Fahrenheit?' % c,
                        '%d °C = %d °F (multiply by 9/5, then add 32).' % (c, f))
        return item(lang, 'unit', '%d摄氏度等于多少华氏度？' % c,
                    '%d°C = %d°F（乘以9/5再加32）。' % (c, f))
    if lang == 'en':
        return item(lang, 'unit', 'Convert %d °F to Celsius.' % f,
                    '%d °F = %d °C (subtract 32, then multiply by 5/9).' % (f, c))
    return item(lang, 'unit', '%d华氏度是多少摄氏度？' % f, '%d°F = %d°C（减去32再乘以5/9）。' % (f, c))


def _rand_date(rng):
    d0 = datetime.date(1950, 1, 1)
    return d0 + datetime.timedelta(days=rng.randrange(0, 365 * 100))


def _zh_date(d):
    return '%d年%d月%d日' % (d.year, d.month, d.day)


def _en_date(d):
    return '%s %d, %d' % (d.strftime('%B'), d.day, d.year)


def gen_date(rng, lang):
    kind = rng.choice(['weekday', 'add', 'leap', 'month_days', 'diff'])
    if kind == 'weekday':
        d = _rand_date(rng)
        w = d.weekday()
        if lang == 'en':
            return item(lang, 'date', 'What day of the week was %s?' % _en_date(d),
                        '%s was a %s.' % (_en_date(d), WEEKDAYS_EN[w]))
        return item(lang, 'date', '%s是星期几？' % _zh_date(d), '%s是%s。' % (_zh_date(d), WEEKDAYS_ZH[w]))
    if kind == 'add':
        d = _rand_date(rng)
        n = rng.randint(1, 60)
        e = d + datetime.timedelta(days=n)
        if lang == 'en':
            return item(lang, 'date', 'What is the date %d days after %s?' % (n, _en_date(d)),
                        '%d days after %s is %s.' % (n, _en_date(d), _en_date(e)))
        return item(lang, 'date', '%s之后%d天是哪一天？' % (_zh_date(d), n),
                    '%s之后%d天是%s。' % (_zh_date(d), n, _zh_date(e)))
    if kind == 'leap':
        y = rng.randint(1800, 2400)
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        if lang == 'en':
            return item(lang, 'date', 'Is %d a leap year?' % y,
                        ('Yes, %d is a leap year.' if leap else 'No, %d is not a leap year.') % y)
        return item(lang, 'date', '%d年是闰年吗？' % y, ('是的，%d年是闰年。' if leap else '不是，%d年不是闰年。') % y)
    if kind == 'month_days':
        y, m = rng.randint(1950, 2050), rng.randint(1, 12)
        nxt = datetime.date(y + (m == 12), m % 12 + 1, 1)
        n = (nxt - datetime.date(y, m, 1)).days
        if lang == 'en':
            mn = datetime.date(y, m, 1).strftime('%B')
            return item(lang, 'date', 'How many days are there in %s %d?' % (mn, y),
                        '%s %d has %d days.' % (mn, y, n))
        return item(lang, 'date', '%d年%d月有多少天？' % (y, m), '%d年%d月有%d天。' % (y, m, n))
    d = _rand_date(rng)
    e = d + datetime.timedelta(days=rng.randint(1, 90))
    n = (e - d).days
    if lang == 'en':
        return item(lang, 'date', 'How many days are there from %s to %s?' % (_en_date(d), _en_date(e)),
                    'From %s to %s is %d days.' % (_en_date(d), _en_date(e), n))
    return item(lang, 'date', '从%s到%s有多少天？' % (_zh_date(d), _zh_date(e)),
                '从%s到%s一共%d天。' % (_zh_date(d), _zh_date(e), n))


# ==========================================================================
# logic puzzles

REL = [('taller', 'tallest', 'shortest', '高', '最高', '最矮'),
       ('older', 'oldest', 'youngest', '大', '最大', '最小'),
       ('faster', 'fastest', 'slowest', '快', '最快', '最慢'),
       ('heavier', 'heaviest', 'lightest', '重', '最重', '最轻')]


def gen_logic(rng, lang):
    kind = rng.choice(['order', 'order', 'parity', 'larger', 'sequence', 'syllogism', 'letters'])
    if kind == 'order':
        k = rng.choice([3, 3, 4])
        names = rng.sample(NAMES_EN if lang == 'en' else NAMES_ZH, k)   # names[0] is the top
        rel = rng.choice(REL)
        facts = list(range(k - 1))
        rng.shuffle(facts)
        top = rng.random() < 0.5
        if lang == 'en':
            sent = ' '.join('%s is %s than %s.' % (names[i], rel[0], names[i + 1]) for i in facts)
            q = '%s Who is the %s?' % (sent, rel[1] if top else rel[2])
            a = '%s is the %s.' % (names[0] if top else names[-1], rel[1] if top else rel[2])
        else:
            sent = ''.join('%s比%s%s。' % (names[i], names[i + 1], rel[3]) for i in facts)
            q = '%s谁%s？' % (sent, rel[4] if top else rel[5])
            a = '%s%s。' % (names[0] if top else names[-1], rel[4] if top else rel[5])
        return item(lang, 'logic', q, a)
    if kind == 'parity':
        n = rng.randint(0, 999)
        odd = n % 2 == 1
        if lang == 'en':
            return item(lang, 'logic', 'Is %d odd or even?' % n, '%d is %s.' % (n, 'odd' if odd else 'even'))
        return item(lang, 'logic', '%d是奇数还是偶数？' % n, '%d是%s。' % (n, '奇数' if odd else '偶数'))
    if kind == 'larger':
        a, b = rng.sample(range(0, 1000), 2)
        if lang == 'en':
            return item(lang, 'logic', 'Which is larger, %d or %d?' % (a, b), '%d is larger.' % max(a, b))
        return item(lang, 'logic', '%d和%d哪个大？' % (a, b), '%d更大。' % max(a, b))
    if kind == 'sequence':
        s, d = rng.randint(0, 50), rng.choice([1, 2, 3, 5, 10, -1, -2])
        seq = [s + d * i for i in range(5)]
        if lang == 'en':
            return item(lang, 'logic', 'What comes next: %s, ?' % ', '.join(map(str, seq[:4])),
                        'The next number is %d (each step adds %d).' % (seq[4], d))
        return item(lang, 'logic', '找规律填数：%s，？' % '，'.join(map(str, seq[:4])),
                    '下一个数是%d（每次%s%d）。' % (seq[4], '加' if d > 0 else '减', abs(d)))
    if kind == 'syllogism':
        cats = [('a cat', 'an animal', 'cats', 'animals', '猫', '动物'),
                ('a rose', 'a flower', 'roses', 'flowers', '玫瑰', '花'),
                ('a sparrow', 'a bird', 'sparrows', 'birds', '麻雀', '鸟'),
                ('an apple', 'a fruit', 'apples', 'fruits', '苹果', '水果'),
                ('a carrot', 'a vegetable', 'carrots', 'vegetables', '胡萝卜', '蔬菜'),
                ('a car', 'a vehicle', 'cars', 'vehicles', '汽车', '交通工具')]
        c = rng.choice(cats)
        yes = rng.random() < 0.5
        n = rng.choice(['X', 'Y', 'Z', 'A', 'B'])
        if lang == 'en':
            if yes:
                q = 'All %s are %s. %s is %s. Is %s %s?' % (c[2], c[3], n, c[0], n, c[1])
                a = 'Yes. All %s are %s, so %s is %s.' % (c[2], c[3], n, c[1])
            else:
                q = 'All %s are %s. %s is %s. Must %s be %s?' % (c[2], c[3], n, c[1], n, c[0])
                a = 'No. Not all %s are %s, so we cannot be sure.' % (c[3], c[2])
        else:
            if yes:
                q = '所有%s都是%s。%s是%s。%s是%s吗？' % (c[4], c[5], n, c[4], n, c[5])
                a = '是的。所有%s都是%s，所以%s是%s。' % (c[4], c[5], n, c[5])
            else:
                q = '所有%s都是%s。%s是%s。%s一定是%s吗？' % (c[4], c[5], n, c[5], n, c[4])
                a = '不一定。%s不都是%s，所以无法确定。' % (c[5], c[4])
        return item(lang, 'logic', q, a)
    w = rng.choice(TRAIN_WORDS)[0]
    if lang == 'en':
        return item(lang, 'logic', 'How many letters are in the word "%s"?' % w,
                    'The word "%s" has %d letters.' % (w, len(w)))
    z = rng.choice(TRAIN_WORDS)[1]
    return item(lang, 'logic', '“%s”这个词有几个汉字？' % z, '“%s”有%d个汉字。' % (z, len(z)))


# ==========================================================================
# templated instructions (also the evaluation's subject)

def instruction(rng, lang, words, kind=None, nums_pool=None):
    """One templated instruction with its exact answer.  words: the word
    list to draw from (training or evaluation part)."""
    kind = kind or rng.choice(['repeat', 'upper', 'yesno', 'range', 'sort', 'translate', 'first'])
    en, zh = rng.choice(words)
    if kind == 'repeat':
        n = rng.randint(2, 5)
        if lang == 'en':
            return ('Repeat the word "%s" %d times, separated by spaces.' % (en, n), ' '.join([en] * n))
        return ('把“%s”重复%d遍，用空格隔开。' % (zh, n), ' '.join([zh] * n))
    if kind == 'upper':
        if lang == 'en':
            return ('Write the word "%s" in capital letters.' % en, en.upper())
        return ('把英文单词“%s”改成大写字母。' % en, en.upper())
    if kind == 'yesno':
        a, b = rng.sample(range(0, 100), 2)
        if lang == 'en':
            return ('Answer only yes or no: is %d greater than %d?' % (a, b), 'Yes' if a > b else 'No')
        return ('只回答“是”或“否”：%d大于%d吗？' % (a, b), '是' if a > b else '否')
    if kind == 'range':
        a = rng.randint(0, 90)
        b = a + rng.randint(2, 7)
        if lang == 'en':
            return ('List the numbers from %d to %d, separated by commas.' % (a, b),
                    ', '.join(str(i) for i in range(a, b + 1)))
        return ('列出从%d到%d的整数，用顿号隔开。' % (a, b), '、'.join(str(i) for i in range(a, b + 1)))
    if kind == 'sort':
        nums = rng.sample(range(0, 100), rng.randint(3, 5))
        if lang == 'en':
            return ('Sort these numbers from smallest to largest: %s' % ', '.join(map(str, nums)),
                    ', '.join(map(str, sorted(nums))))
        return ('把下面的数字从小到大排列：%s' % '、'.join(map(str, nums)), '、'.join(map(str, sorted(nums))))
    if kind == 'translate':
        if lang == 'en':
            return ('Translate into Chinese: %s' % en, zh)
        return ('“%s”用英文怎么说？只回答单词。' % zh, en)
    # first letter / character (of a word that has more than one)
    if lang == 'zh' and len(zh) < 2:
        zh = rng.choice([w for w in words if len(w[1]) > 1])[1]
    if lang == 'en':
        return ('What is the first letter of the word "%s"? Answer with the letter only.' % en, en[0])
    return ('“%s”的第一个字是什么？只回答这个字。' % zh, zh[0])


def gen_instruction(rng, lang):
    q, a = instruction(rng, lang, TRAIN_WORDS)
    return item(lang, 'instruct', q, a)


def gen_glossary(rng, lang, glossary):
    en, zh = rng.choice(glossary)
    if lang == 'en':
        q = rng.choice(['Translate this software term into Chinese: "%s"', 'What is "%s" in Chinese?']) % en
        return item(lang, 'translate', q, zh)
    q = rng.choice(['把这个软件术语翻译成英文：“%s”', '“%s”的英文是什么？']) % zh
    return item(lang, 'translate', q, en)


# ==========================================================================
# dialogues

def gen_identity(rng, lang):
    if rng.random() < 0.35:
        qs, a = rng.choice(WHO_SPECIAL[lang])
        return item(lang, 'identity', rng.choice(qs), a)
    if lang == 'en':
        return item(lang, 'identity', rng.choice(WHO_EN_TRAIN), rng.choice(ID_EN))
    return item(lang, 'identity', rng.choice(WHO_ZH_TRAIN), rng.choice(ID_ZH))


def gen_greet(rng, lang):
    choices = [g for g in GREET if g[0] == lang]
    _, qs, ans = rng.choice(choices)
    return item(lang, 'chat', rng.choice(qs), rng.choice(ans))


def _slots(rng, lang):
    topic = rng.choice(TOPICS)
    return dict(city=rng.choice(CITIES_EN if lang == 'en' else CITIES_ZH),
                stock=rng.choice(STOCKS if lang == 'en' else STOCKS_ZH),
                topic=topic[0], topic_zh=topic[1])


def gen_limit(rng, lang):
    qs, a = rng.choice(LIMITS_EN if lang == 'en' else LIMITS_ZH)
    q = rng.choice(qs)
    slots = _slots(rng, lang)         # the same values in question and answer
    return item(lang, 'limits', q.format(**slots), a.format(**slots))


GENERATORS = [  # (generator, weight)
    (gen_arith, 30), (gen_word_problem, 8), (gen_unit, 6), (gen_temperature, 2),
    (gen_date, 6), (gen_logic, 10), (gen_instruction, 14), (gen_identity, 6),
    (gen_greet, 5), (gen_limit, 6),
]


def gen_parallel(rng, lang, parallel):
    en, zh = rng.choice(parallel)
    if lang == 'en':
        q = rng.choice(['Translate into Chinese: %s', 'Translate this sentence into Chinese:\n%s']) % en
        return item(lang, 'translate', q, zh)
    q = rng.choice(['翻译成英文：%s', '请把下面这句话翻译成英文：\n%s']) % zh
    return item(lang, 'translate', q, en)


def draw_item(rng, lang, bank):
    """bank: {'glossary': [(en, zh)], 'parallel': [(en, zh)]} from the
    packages (LibreOffice UI strings and aligned help paragraphs)."""
    r = rng.random()
    if bank.get('glossary') and r < 0.04:
        return gen_glossary(rng, lang, bank['glossary'])
    if bank.get('parallel') and 0.04 <= r < 0.08:
        return gen_parallel(rng, lang, bank['parallel'])
    gens = [g for g, _ in GENERATORS]
    weights = [w for _, w in GENERATORS]
    g = rng.choices(gens, weights)[0]
    return g(rng, lang)


def conversation(rng, bank):
    """One SFT example: 1 to 3 turns in one language, sometimes with a
    system message."""
    lang = 'zh' if rng.random() < 0.5 else 'en'
    msgs = []
    if rng.random() < 0.3:
        msgs.append({'role': 'system', 'content': rng.choice(SYSTEM_EN if lang == 'en' else SYSTEM_ZH)})
    turns = rng.choices([1, 2, 3], [70, 20, 10])[0]
    items = [draw_item(rng, lang, bank) for _ in range(turns)]
    for it in items:
        msgs.append({'role': 'user', 'content': it['q']})
        msgs.append({'role': 'assistant', 'content': it['a']})
    return lang, items, {'messages': msgs}


# ==========================================================================
# evaluation sets

def eval_sets(seed):
    rng = random.Random(seed)
    out = {}
    # two-digit arithmetic from the reserved pairs
    pairs = {op: [(a, b) for a in range(10, 100) for b in range(10, 100)
                  if is_eval_pair(op, a, b) and (op != '-' or a >= b)] for op in '+-*'}
    rows = []
    for lang in ('en', 'zh'):
        for op in '+-*':
            for a, b in rng.sample(pairs[op], 50):
                q = arith_question(rng, lang, op, a, b)
                rows.append(dict(task='arith2', lang=lang, op=op, q=q, expected=str(OPS[op](a, b)),
                                 match='number'))
    out['arith2'] = rows
    rows = []
    for lang, qs in (('en', WHO_EN_EVAL), ('zh', WHO_ZH_EVAL)):
        for q in qs:
            rows.append(dict(task='identity', lang=lang, q=q,
                             expected=['Starfire'] if lang == 'en' else ['星火', 'Starfire'],
                             match='contains_any'))
    out['identity'] = rows
    rows = []
    seen = set()
    for lang in ('en', 'zh'):
        for kind in ('repeat', 'upper', 'yesno', 'range', 'sort', 'translate', 'first'):
            n = tries = 0
            while n < 15 and tries < 1000:   # some kinds have fewer distinct items
                tries += 1
                q, a = instruction(rng, lang, EVAL_WORDS, kind)
                if q in seen:
                    continue
                seen.add(q)
                rows.append(dict(task='instruct', kind=kind, lang=lang, q=q, expected=a, match='exact'))
                n += 1
    out['instruct'] = rows
    rows = []
    held = {'en': ['Is it going to snow in {city} this weekend?', 'What is the temperature outside right now?',
                   "Tell me the score of last night's football match.", 'What is the current price of gold?'],
            'zh': ['这个周末{city}会下雪吗？', '现在外面多少度？', '昨晚足球比赛的比分是多少？', '现在金价是多少？']}
    for lang in ('en', 'zh'):
        for q in held[lang]:
            rows.append(dict(task='limits', lang=lang, q=q.format(**_slots(rng, lang)),
                             expected=(["can't", 'cannot', "don't have", 'no access', 'offline', 'not able']
                                       if lang == 'en' else ['无法', '不能', '没有', '离线']),
                             match='contains_any'))
    out['limits'] = rows
    return out


# ==========================================================================
# writing

def _jsonl(rows):
    return ''.join(json.dumps(r, ensure_ascii=False, sort_keys=True) + '\n' for r in rows)


def _plain(it):
    if it['lang'] == 'en':
        return 'Question: %s\nAnswer: %s' % (it['q'], it['a'])
    return '问：%s\n答：%s' % (it['q'], it['a'])


def _put(path, text, files):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = text.encode('utf-8')
    with open(path, 'wb') as f:
        f.write(data)
    if files is not None:
        files[path] = data


def write_all(work, seed=1234, eval_seed=98765, pretrain_tokens=400000, glossary=(),
              parallel=(), sft_examples=40000, files=None, log=print):
    from clean import cjk_count, est_tokens   # same measure as the builder
    bank = {'glossary': list(glossary),
            'parallel': [(e, z) for e, z in parallel if len(e) <= 160 and len(z) <= 160]}
    ev = eval_sets(eval_seed)
    eval_qs = set(r['q'] for rows in ev.values() for r in rows)

    # SFT conversations (unique by their user turns, eval questions excluded)
    rng = random.Random(seed)
    convs, seen = [], set()
    overlap_rejected = 0
    while len(convs) < sft_examples:
        lang, items, conv = conversation(rng, bank)
        if any(it['q'] in eval_qs for it in items):
            overlap_rejected += 1
            continue
        key = '\x00'.join(it['q'] for it in items)
        if key in seen:
            continue
        seen.add(key)
        convs.append(conv)
    train, val = [], []
    for c in convs:
        key = '\x00'.join(m['content'] for m in c['messages'] if m['role'] == 'user')
        (val if _h('sftval:' + key) % 50 == 0 else train).append(c)

    # pretraining text: the same generators, a different stream
    prng = random.Random(seed + 1)
    docs, tok, pseen = [], 0.0, set()
    while tok < pretrain_tokens:
        lang = 'zh' if prng.random() < 0.5 else 'en'
        its = []
        while len(its) < 16:
            it = draw_item(prng, lang, bank)
            if it['q'] in eval_qs or it['q'] in pseen:
                continue
            pseen.add(it['q'])
            its.append(_plain(it))
        d = '\n'.join(its)
        docs.append(d)
        tok += est_tokens(d)
    ptext = '\n<|endoftext|>\n'.join(docs) + '\n'

    # the exact-match overlap check the evaluation relies on
    train_qs = set(m['content'] for c in convs for m in c['messages'] if m['role'] == 'user')
    overlap_sft = sorted(eval_qs & train_qs)
    overlap_pre = sorted(q for q in eval_qs if q in pseen)
    if overlap_sft or overlap_pre:
        raise SystemExit('evaluation questions leak into training: %r' % (overlap_sft + overlap_pre)[:5])

    _put(os.path.join(work, 'sft', 'train.jsonl'), _jsonl(train), files)
    _put(os.path.join(work, 'sft', 'val.jsonl'), _jsonl(val), files)
    _put(os.path.join(work, 'pretrain', 'synth', 'synth.txt'), ptext, files)
    for name, rows in sorted(ev.items()):
        out = []
        for i, r in enumerate(rows):
            row = {k: v for k, v in r.items() if k != 'q'}
            row['id'] = '%s-%04d' % (name, i)
            row['messages'] = [{'role': 'user', 'content': r['q']}]
            out.append(row)
        _put(os.path.join(work, 'eval', name + '.jsonl'), _jsonl(out), files)

    def by_lang(cs):
        by = {}
        for c in cs:
            first = next(m for m in c['messages'] if m['role'] == 'user')['content']
            lang = 'zh' if cjk_count(first) else 'en'
            by[lang] = by.get(lang, 0) + 1
        return by
    stats = dict(
        sft_train=len(train), sft_val=len(val), sft_train_by_lang=by_lang(train),
        sft_turns=sum(sum(1 for m in c['messages'] if m['role'] == 'user') for c in convs),
        eval={k: len(v) for k, v in ev.items()},
        eval_overlap_exact_match=0, eval_items_rejected_from_training=overlap_rejected,
        pretrain=dict(docs=len(docs), bytes=len(ptext.encode('utf-8')), cjk_chars=cjk_count(ptext),
                      est_tokens=int(round(sum(est_tokens(d) for d in docs)))),
        glossary_pairs=len(bank['glossary']), parallel_pairs=len(bank['parallel']))
    log('synthetic: %d SFT train / %d val conversations, %d pretrain docs (~%d tokens), eval %s' % (
        len(train), len(val), len(docs), stats['pretrain']['est_tokens'], stats['eval']))
    return stats


def main():
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--eval-seed', type=int, default=98765)
    ap.add_argument('--pretrain-tokens', type=int, default=400000)
    ap.add_argument('--sft-examples', type=int, default=40000)
    a = ap.parse_args()
    st = write_all(a.out, a.seed, a.eval_seed, a.pretrain_tokens, sft_examples=a.sft_examples)
    print(json.dumps(st, ensure_ascii=False, indent=1, sort_keys=True))


if __name__ == '__main__':
    main()

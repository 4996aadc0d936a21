"""The corpus sources: which Debian packages, which files in them, how to read
them and under which licence they are distributed.

Every package here is from Debian's "main" archive area (DFSG-free); the
builder re-checks that (the .deb's Section must not be non-free/contrib) and
that the package's /usr/share/doc/<pkg>/copyright still names the licence we
reviewed (`licence_check`: every string must occur in the copyright file).  A
source whose check fails is excluded from the build and reported.

Order matters: sources are processed in this order and the global paragraph
de-duplication keeps the first occurrence, so better-written sources come
first.  Within a language, `weight` steers the share of the English budget
(only English is capped; all Chinese that passes the filters is kept).

Reader names refer to functions in build.py (`read_<reader>`).
"""

# lang: 'zh' | 'en' | 'bi' (bilingual glossary text) | 'lex' (lexicon, not
# pretraining text)

SOURCES = [
    # ------------------------------------------------------------------ zh
    dict(name='fortunes-zh', package='fortunes-zh', lang='zh', reader='fortune_zh',
         globs=['usr/share/games/fortunes/tang300', 'usr/share/games/fortunes/song100',
                'usr/share/games/fortunes/chinese'],
         licence='GPL-3.0+ (collection); the poems and sayings themselves are classical texts',
         licence_check=['GPL-3.0+']),
    dict(name='debian-handbook-zh', package='debian-handbook', lang='zh', reader='html',
         globs=['usr/share/doc/debian-handbook/html/zh-CN/*.html'],
         licence='GPL-2.0+ or CC-BY-SA-3.0',
         licence_check=['GPL-2.0+', 'CC-BY-SA-3.0']),
    dict(name='debian-reference-zh', package='debian-reference-zh-cn', lang='zh', reader='html',
         globs=['usr/share/debian-reference/*.zh-cn.html'],
         licence='GPL-2+', licence_check=['GPL-2+']),
    dict(name='debian-faq-zh', package='debian-faq-zh-cn', lang='zh', reader='html',
         globs=['usr/share/doc/debian/FAQ/zh-cn/*.html'],
         licence='permissive (SPI: verbatim and modified copies allowed under the same notice)',
         licence_check=['Permission is granted to copy and distribute modified versions']),
    dict(name='maint-guide-zh', package='maint-guide-zh-cn', lang='zh', reader='html',
         globs=['usr/share/doc/maint-guide-zh-cn/html/*.zh-cn.html'],
         licence='GPL-2.0+ or MIT', licence_check=['GPL-2.0+', 'MIT']),
    dict(name='installation-guide-zh', package='installation-guide-amd64', lang='zh', reader='html',
         globs=['usr/share/doc/installation-guide-amd64/zh_CN/*.html'],
         licence='GPL-2', licence_check=['GNU GPL, version 2']),
    dict(name='debian-edu-doc-zh', package='debian-edu-doc-zh-cn', lang='zh', reader='html',
         globs=['usr/share/doc/debian-edu-doc-zh-cn/*.html'],
         licence='GPL-2+ (some parts GPL-3+)', licence_check=['GPL-2+']),
    dict(name='debian-edu-doc-legacy-zh', package='debian-edu-doc-legacy-zh-cn', lang='zh',
         reader='html', globs=['usr/share/doc/debian-edu-doc-legacy-zh-cn/*.html'],
         licence='GPL-2+ (some parts GPL-3+)', licence_check=['GPL-2+']),
    dict(name='linux-doc-zh', package='linux-doc-6.1', lang='zh', reader='rst',
         globs=['usr/share/doc/linux-doc-6.1/html/_sources/translations/zh_CN/**/*.rst.txt'],
         licence='GPL-2 (kernel documentation)', licence_check=['GPL-2']),
    dict(name='manpages-zh', package='manpages-zh', lang='zh', reader='man',
         globs=['usr/share/man/zh_CN/man*/*'],
         licence='GFDL-1.2+ / GPL-2+ / BSD / public domain (per page, all DFSG-free)',
         licence_check=['GFDL-1.2+', 'GPL-2.0+']),
    dict(name='libreoffice-help-zh', package='libreoffice-help-zh-cn', lang='zh', reader='html',
         globs=['usr/share/libreoffice/help/zh-CN/text/**/*.html'],
         split=1, licence='MPL-2.0 (help content)', licence_check=['MPL-2.0']),
    dict(name='gimp-help-zh', package='gimp-help-zh-cn', lang='zh', reader='html',
         globs=['usr/share/gimp/2.0/help/zh_CN/**/*.html'],
         split=1, licence='GFDL-1.2+ with no invariant sections',
         licence_check=['GFDL-NIV-1.2+', 'no Invariant Sections'],
         copyright_pkg='gimp-help-common'),

    # ------------------------------------------------------------------ en
    dict(name='bible-web', package='sword-text-web', lang='en', reader='sword',
         globs=['usr/share/sword/modules/texts/ztext/engWEB2015eb'],
         licence='public domain (World English Bible)',
         licence_check=['The World English Bible is in the Public Domain'], weight=3.0),
    dict(name='debian-handbook-en', package='debian-handbook', lang='en', reader='html',
         globs=['usr/share/doc/debian-handbook/html/en-US/*.html'],
         licence='GPL-2.0+ or CC-BY-SA-3.0', licence_check=['GPL-2.0+', 'CC-BY-SA-3.0'],
         weight=2.0),
    dict(name='debian-reference-en', package='debian-reference-en', lang='en', reader='html',
         globs=['usr/share/debian-reference/*.en.html'],
         licence='GPL-2+', licence_check=['GPL-2+'], weight=1.5),
    dict(name='debian-faq-en', package='debian-faq', lang='en', reader='html',
         globs=['usr/share/doc/debian/FAQ/*.en.html'],
         licence='permissive (SPI: verbatim and modified copies allowed under the same notice)',
         licence_check=['Permission is granted to copy and distribute modified versions'],
         weight=1.0),
    dict(name='maint-guide-en', package='maint-guide', lang='en', reader='html',
         globs=['usr/share/doc/maint-guide/html/*.en.html'],
         licence='GPL-2.0+ or MIT', licence_check=['GPL-2.0+', 'MIT'], weight=1.0),
    dict(name='installation-guide-en', package='installation-guide-amd64', lang='en',
         reader='html', globs=['usr/share/doc/installation-guide-amd64/en/*.html'],
         licence='GPL-2', licence_check=['GNU GPL, version 2'], weight=1.0),
    dict(name='debian-edu-doc-en', package='debian-edu-doc-en', lang='en', reader='html',
         globs=['usr/share/doc/debian-edu-doc-en/debian-edu-bookworm-manual.html'],
         licence='GPL-2+ (some parts GPL-3+)', licence_check=['GPL-2+'], weight=1.0),
    dict(name='python-doc', package='python3.11-doc', lang='en', reader='html',
         globs=['usr/share/doc/python3.11/html/tutorial/*.html',
                'usr/share/doc/python3.11/html/howto/*.html',
                'usr/share/doc/python3.11/html/faq/*.html',
                'usr/share/doc/python3.11/html/reference/*.html',
                'usr/share/doc/python3.11/html/using/*.html',
                'usr/share/doc/python3.11/html/library/*.html',
                'usr/share/doc/python3.11/html/glossary.html'],
         licence='PSF-2.0 (Python documentation)',
         licence_check=['PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2'], weight=2.0),
    dict(name='perl-doc', package='perl-doc', lang='en', reader='pod',
         globs=['usr/share/perl/5.36.0/pod/*.pod'],
         licence='GPL-1+ or Artistic', licence_check=['GPL-1+ or Artistic'], weight=1.5),
    dict(name='manpages-en', package='manpages', lang='en', reader='man',
         globs=['usr/share/man/man1/*', 'usr/share/man/man4/*', 'usr/share/man/man5/*',
                'usr/share/man/man7/*', 'usr/share/man/man8/*'],
         licence='Linux-man-pages-copyleft / GPL-2+ / BSD / Expat (per page, all DFSG-free)',
         licence_check=['Linux-man-pages-copyleft'], weight=1.5),
    dict(name='linux-doc-en', package='linux-doc-6.1', lang='en', reader='rst',
         globs=['usr/share/doc/linux-doc-6.1/html/_sources/admin-guide/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/process/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/doc-guide/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/kernel-hacking/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/filesystems/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/scheduler/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/networking/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/security/**/*.rst.txt',
                'usr/share/doc/linux-doc-6.1/html/_sources/core-api/**/*.rst.txt'],
         licence='GPL-2 (kernel documentation)', licence_check=['GPL-2'], weight=1.5),
    dict(name='libreoffice-help-en', package='libreoffice-help-en-us', lang='en', reader='html',
         globs=['usr/share/libreoffice/help/en-US/text/**/*.html'],
         split=1, licence='MPL-2.0 (help content)', licence_check=['MPL-2.0'], weight=1.0),
    dict(name='wordnet-glosses', package='wordnet-base', lang='en', reader='wordnet',
         globs=['usr/share/wordnet/data.noun', 'usr/share/wordnet/data.verb',
                'usr/share/wordnet/data.adj', 'usr/share/wordnet/data.adv'],
         licence='WordNet 3.0 licence (permissive, BSD-like)',
         licence_check=['WordNet'], weight=1.0),
    dict(name='fortunes-en', package='fortunes', lang='en', reader='fortune_en',
         # quotations from novels, TV series, comics and song lyrics are left
         # out (pratchett, startrek, zippy, songs-poems), as are ASCII art and
         # the jokes about ethnic groups and the sexes.
         globs=['usr/share/games/fortunes/' + f for f in (
             'computers', 'cookie', 'definitions', 'education', 'food', 'fortunes',
             'goedel', 'humorists', 'kids', 'law', 'linux', 'literature', 'love',
             'magic', 'medicine', 'miscellaneous', 'news', 'paradoxum', 'people',
             'pets', 'platitudes', 'politics', 'riddles', 'science', 'sports',
             'wisdom', 'work')],
         licence='BSD (fortune collection); short quotations of many authors',
         licence_check=['BSD'], weight=0.5),

    # ------------------------------------------------------------------ bilingual
    dict(name='unihan-definitions', package='unicode-data', lang='bi', reader='unihan',
         globs=['usr/share/unicode/Unihan_Readings.txt.bz2',
                'usr/share/unicode/Unihan_OtherMappings.txt.bz2'],
         licence='Unicode License (permissive)',
         licence_check=['Permission is hereby granted, free of charge']),
    dict(name='libreoffice-ui-glossary', package='libreoffice-l10n-zh-cn', lang='bi', reader='mo',
         globs=['usr/lib/libreoffice/program/resource/zh_CN/LC_MESSAGES/*.mo'],
         licence='MPL-2.0 (LibreOffice translations)', licence_check=['MPL-2.0']),

    dict(name='libreoffice-help-parallel', package='libreoffice-help-zh-cn',
         package2='libreoffice-help-en-us', lang='bi', reader='lo_parallel',
         globs=['usr/share/libreoffice/help/zh-CN/text/**/*.html'],
         licence='MPL-2.0 (help content)', licence_check=['MPL-2.0'], weight=2.0),

    # ------------------------------------------------------------------ lexicons
    dict(name='jieba-dict', package='python3-jieba', lang='lex', reader='jieba',
         globs=['usr/lib/python3/dist-packages/jieba/dict.txt'],
         licence='Expat (MIT)', licence_check=['Expat']),
    dict(name='rime-essay', package='rime-essay', lang='lex', reader='rime',
         globs=['usr/share/rime-data/essay.txt'],
         licence='LGPL-3 (some parts CC0-1.0)', licence_check=['LGPL-3']),
]

# Packages downloaded only for their copyright file (doc dir is a symlink).
EXTRA_PACKAGES = ['gimp-help-common']


def packages():
    seen = []
    for s in SOURCES:
        for p in (s['package'], s.get('package2'), s.get('copyright_pkg')):
            if p and p not in seen:
                seen.append(p)
    for p in EXTRA_PACKAGES:
        if p not in seen:
            seen.append(p)
    return seen

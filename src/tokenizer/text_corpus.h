// Training text from files and folders, as `starfire tokenizer train` reads it:
//  - *.jsonl: one JSON object per line, {"text": "..."} or
//    {"messages": [{"role": ..., "content": "..."}, ...]} (each message's
//    content is its own document; content may also be a list of
//    {"type": "text", "text": ...} parts). Other lines are an error naming
//    file:line, so a wrong schema is not silently learned as nothing.
//  - any other file named directly: plain UTF-8 text (invalid bytes are kept).
//  - a folder: its *.txt and *.jsonl files, recursively, in sorted path order
//    (so the same folder always gives the same documents); other files are
//    skipped and counted.
// Plain text is streamed in blocks cut at points where the pre-tokenizer would
// cut anyway (text_safe_cut), so a file of any size is read in bounded memory
// and tokenizes exactly as if it were one document.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sf::tok {

struct CorpusStats {
  uint64_t files = 0;          // files read
  uint64_t skipped_files = 0;  // files in folders that are not .txt/.jsonl
  uint64_t docs = 0;           // documents handed to the sink
  uint64_t bytes = 0;          // bytes handed to the sink
};

// Calls sink(doc) for every document; a sink returning false stops the reading
// (e.g. a byte budget is spent). Errors: a missing path, an unreadable file,
// a bad JSONL line, a folder with nothing to read.
// Plain text goes to the sink in blocks of about block_bytes (tests use small ones).
Status read_text_corpus(const std::vector<std::string>& paths,
                        const std::function<bool(std::string_view)>& sink,
                        CorpusStats* stats = nullptr, size_t block_bytes = size_t{4} << 20);

// A byte offset near `target` where `text` can be cut into two documents that
// pre-tokenize (NFC + the Qwen2/Llama 3/GPT-2 split patterns) exactly like the
// whole: just after a '\n' that is followed by printable non-space ASCII. No
// split-pattern match crosses such a point (a newline ends every alternative
// that can hold one, and the next character neither extends a whitespace run
// nor composes under NFC). Prefers the last such point at or before target,
// else the first after; text.size() when there is none.
size_t text_safe_cut(std::string_view text, size_t target);

}  // namespace sf::tok

// Byte-string encodings etcdctl's printers use: base64 (JSON's []byte), JSON
// string escaping as Go's encoding/json does it, and Go's %q quoting.
//
// Thread-safety: pure functions.
#ifndef REVKV_CMD_REVKV_ENCODING_H_
#define REVKV_CMD_REVKV_ENCODING_H_

#include <string>
#include <string_view>

namespace revkv::cli {

// Standard base64 with padding.
std::string Base64(std::string_view bytes);
// A JSON string literal (with the quotes) as Go's encoding/json writes a
// valid UTF-8 string: <, >, & as \u003c, \u003e, \u0026.
std::string JsonString(std::string_view s);
// Go's strconv.Quote (fmt's %q) for ASCII and invalid bytes; valid UTF-8
// multi-byte sequences are kept as they are.
std::string GoQuote(std::string_view s);
// Parses a Go double-quoted or back-quoted string literal at the start of
// `in`; on success sets *out, *consumed and returns true (fmt's %q verb).
bool GoUnquotePrefix(std::string_view in, std::string* out, size_t* consumed);
// humanize.Bytes: "20 kB", "8.2 kB", "9 B".
std::string HumanizeBytes(uint64_t n);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_ENCODING_H_

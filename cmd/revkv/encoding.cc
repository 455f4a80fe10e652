#include "cmd/revkv/encoding.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_format.h"

namespace revkv::cli {

std::string Base64(std::string_view in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 |
                 uint8_t(in[i + 2]);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t Utf8Len(std::string_view s, size_t i) {
  uint8_t c = uint8_t(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    uint8_t d = uint8_t(s[i + k]);
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint8_t c = uint8_t(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8Len(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': case '>': case '&':
        out += absl::StrFormat("\\u%04x", c);
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += char(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint8_t c = uint8_t(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8Len(s, i);
      if (n == 0) {
        out += absl::StrFormat("\\x%02x", c);
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\x%02x", c);
        } else {
          out += char(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += char(cp);
  } else if (cp < 0x800) {
    *out += char(0xc0 | (cp >> 6));
    *out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += char(0xe0 | (cp >> 12));
    *out += char(0x80 | ((cp >> 6) & 0x3f));
    *out += char(0x80 | (cp & 0x3f));
  } else {
    *out += char(0xf0 | (cp >> 18));
    *out += char(0x80 | ((cp >> 12) & 0x3f));
    *out += char(0x80 | ((cp >> 6) & 0x3f));
    *out += char(0x80 | (cp & 0x3f));
  }
}

}  // namespace

bool GoUnquotePrefix(std::string_view in, std::string* out, size_t* consumed) {
  out->clear();
  if (in.empty()) return false;
  if (in[0] == '`') {
    size_t end = in.find('`', 1);
    if (end == std::string_view::npos) return false;
    *out = std::string(in.substr(1, end - 1));
    *consumed = end + 1;
    return true;
  }
  if (in[0] != '"') return false;
  size_t i = 1;
  while (i < in.size()) {
    char c = in[i];
    if (c == '"') {
      *consumed = i + 1;
      return true;
    }
    if (c == '\n') return false;
    if (c != '\\') {
      *out += c;
      ++i;
      continue;
    }
    if (i + 1 >= in.size()) return false;
    char e = in[i + 1];
    i += 2;
    switch (e) {
      case 'a': *out += '\a'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case 'v': *out += '\v'; break;
      case '\\': *out += '\\'; break;
      case '"': *out += '"'; break;
      case 'x': {
        if (i + 2 > in.size()) return false;
        int h = HexVal(in[i]), l = HexVal(in[i + 1]);
        if (h < 0 || l < 0) return false;
        *out += char(h * 16 + l);
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        if (i + n > in.size()) return false;
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          int v = HexVal(in[i + k]);
          if (v < 0) return false;
          cp = cp * 16 + uint32_t(v);
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        AppendUtf8(cp, out);
        i += n;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > in.size()) return false;
          int v = e - '0';
          for (int k = 0; k < 2; ++k) {
            char d = in[i + k];
            if (d < '0' || d > '7') return false;
            v = v * 8 + (d - '0');
          }
          if (v > 255) return false;
          *out += char(v);
          i += 2;
          break;
        }
        return false;
    }
  }
  return false;
}

std::string HumanizeBytes(uint64_t n) {
  static const char* kSizes[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (n < 10) return absl::StrFormat("%d B", n);
  double e = std::floor(std::log(double(n)) / std::log(1000.0));
  double val = std::floor(double(n) / std::pow(1000.0, e) * 10 + 0.5) / 10;
  if (val < 10) return absl::StrFormat("%.1f %s", val, kSizes[int(e)]);
  return absl::StrFormat("%.0f %s", val, kSizes[int(e)]);
}

}  // namespace revkv::cli

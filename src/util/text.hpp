// Text for people: what a terminal or a journal shows. Values that came from outside (server
// error messages, file names, keys, option values) go through printable() before they reach a
// human-readable output, so they cannot forge lines or drive the terminal. JSON output does not:
// it escapes by its own rules and stays exact.
#pragma once

#include <string>
#include <string_view>

namespace imgsync::util {

// s with every byte a terminal could act on made visible, on one line:
//   \n \r \t and \\ for newline, carriage return, tab and backslash;
//   \xHH for the other C0 controls, DEL, and each byte of ill-formed UTF-8;
//   \u0080 ... \u009f for the C1 controls (well-formed UTF-8 that terminals may obey).
// Printable ASCII and other well-formed UTF-8 pass through unchanged.
std::string printable(std::string_view s);

// True if printable(s) == s (nothing to escape).
bool is_printable(std::string_view s);

} // namespace imgsync::util

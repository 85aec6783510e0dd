// Object keys from named fields, for layouts the built-in ones do not cover:
// add --key-template '{year}/{month}/{sha256:8}-{stem}.{ext}'.
//
// Fields:
//   {prefix}  the --prefix          {path}  the path relative to the argument of add
//   {dir}     that path's directory ("" at the top; no trailing '/')
//   {name}    the file's name       {stem}  the name without its last extension
//   {ext}     the extension of the detected format, without the dot (jpg, png, tiff, ...)
//   {sha256}  the content's SHA-256 (hex); {sha256:N} its first N characters (1-64)
//   {year} {month} {day} {hour} {minute} {second}, {date} = {year}/{month}/{day}: when the photo
//             was taken (EXIF DateTimeOriginal), else the file's mtime in UTC; zero-padded
// "{{" and "}}" are literal braces. Pure: the fields are given; parsing fails naming the problem.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgsync::model {

struct CalendarTime {
    int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};

// The mtime as a UTC calendar time.
CalendarTime utc_time(std::int64_t epoch_ns);

struct KeyFields {
    std::string_view prefix;
    std::string_view relative; // path relative to the argument of add, '/'-separated
    std::string_view sha256;   // hex
    std::string_view ext;      // without the dot
    CalendarTime taken;
};

class KeyTemplate {
  public:
    static util::Result<KeyTemplate> parse(std::string_view text);
    std::string render(const KeyFields& fields) const;
    // Whether any field needs the date (so add reads the EXIF data only then).
    bool uses_date() const { return uses_date_; }

  private:
    enum class Field {
        literal,
        prefix,
        path,
        dir,
        name,
        stem,
        ext,
        sha256,
        year,
        month,
        day,
        hour,
        minute,
        second,
        date
    };
    struct Piece {
        Field field = Field::literal;
        std::string text;      // literal
        std::size_t width = 0; // sha256:N
    };
    std::vector<Piece> pieces_;
    bool uses_date_ = false;
};

} // namespace imgsync::model

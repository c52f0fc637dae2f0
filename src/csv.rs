//! CSV for spreadsheets and tools: the one writer behind the CLI's `--format csv` and the
//! monthly report's CSV files.
//!
//! RFC 4180: comma between fields, CRLF after every line, a field quoted when it holds a
//! comma, a quote or a line break (a quote inside doubled).
//!
//! Text that comes from outside this program (names, codes, values read from either portal,
//! notes typed by staff) goes through [`text`]: a cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return is read by Excel and LibreOffice as a formula (CSV injection), so
//! such text is written with a leading `'`. Numbers, times and this program's own words are
//! written as they are, so a negative number stays a number.

use std::borrow::Cow;

/// The UTF-8 byte-order mark, so that Excel opens Vietnamese text right.
pub const BOM: &str = "\u{FEFF}";

/// Leading characters that make a spreadsheet take a cell for a formula.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text from outside: prefixed with `'` when it starts like a formula.
pub fn text(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One RFC 4180 field: quoted when it holds a comma, a quote or a line break.
pub fn field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// A CSV document, written line by line. Cells are passed as they should read (text from
/// outside already through [`text`]); [`Csv::row`] quotes them.
#[derive(Debug, Default)]
pub struct Csv {
    out: String,
}

impl Csv {
    /// A document that starts with `headers`.
    pub fn new<S: AsRef<str>>(headers: impl IntoIterator<Item = S>) -> Csv {
        let mut csv = Csv::default();
        csv.row(headers);
        csv
    }

    /// A document for a file that people open in Excel: the byte-order mark, then `headers`.
    pub fn with_bom<S: AsRef<str>>(headers: impl IntoIterator<Item = S>) -> Csv {
        let mut csv = Csv {
            out: BOM.to_string(),
        };
        csv.row(headers);
        csv
    }

    /// Appends one line.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        for (i, c) in cells.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str(&field(c.as_ref()));
        }
        self.out.push_str("\r\n");
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_starts_like_a_formula_is_neutralised() {
        for (from, to) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+84 912", "'+84 912"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
        ] {
            assert_eq!(text(from), to, "{from:?}");
        }
        // Only a leading character counts; ordinary text and the empty cell are unchanged.
        for same in [
            "",
            "a=b",
            "Sở Tư pháp",
            "000.00.12.H18-240715-0012",
            " =1",
            "'=1",
        ] {
            assert_eq!(text(same), same, "{same:?}");
        }
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("cr\r"), "\"cr\r\"");
        // A neutralised carriage return is still quoted: the line stays one record.
        assert_eq!(field(&text("\r=1")), "\"'\r=1\"");
    }

    #[test]
    fn a_document_has_crlf_lines_and_an_optional_bom() {
        let mut csv = Csv::new(["id", "tên"]);
        csv.row([String::from("1"), text("=cmd").into_owned()]);
        csv.row(["2", "Lò, Thị"]);
        assert_eq!(csv.finish(), "id,tên\r\n1,'=cmd\r\n2,\"Lò, Thị\"\r\n");
        let with_bom = Csv::with_bom(["a"]).finish();
        assert_eq!(with_bom.as_bytes(), b"\xEF\xBB\xBFa\r\n");
    }
}

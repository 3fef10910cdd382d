//! CSV as Swedish Excel opens it with a double click: UTF-8 with a byte
//! order mark (without it Excel reads the file as Windows-1252 and breaks
//! å, ä, ö), semicolons between cells (the list separator of a Swedish
//! locale, where the comma is the decimal sign), decimal commas, CRLF line
//! ends and RFC 4180 quoting.
//!
//! A cell that begins with `=`, `+`, `-`, `@` (or a tab or carriage
//! return) would be read by a spreadsheet as a formula; such a cell gets a
//! leading apostrophe, which Excel shows as text. Written by hand rather
//! than with the `csv` crate: quoting, the guard and the BOM are all there
//! is, and the guard would be ours either way.

/// The byte order mark that tells Excel the file is UTF-8.
pub const BOM: char = '\u{feff}';

/// A CSV document being written, header row first.
pub struct Csv {
    text: String,
}

impl Csv {
    pub fn new(header: &[&str]) -> Csv {
        let mut csv = Csv {
            text: String::from(BOM),
        };
        csv.row(header.iter().map(|h| h.to_string()));
        csv
    }

    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.text.push(';');
            }
            push_cell(&mut self.text, cell.as_ref());
        }
        self.text.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.text
    }
}

fn push_cell(out: &mut String, cell: &str) {
    let guarded = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = cell.contains([';', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// A number with a decimal comma (`12,5`), as a Swedish spreadsheet reads
/// it; empty for none.
pub fn decimal(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.1}").replace('.', ","))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_starts_with_a_bom_and_separates_cells_with_semicolons_and_lines_with_crlf() {
        let mut csv = Csv::new(&["Elev", "Minuter"]);
        csv.row(["Åsa Öberg", "45"]);
        assert_eq!(csv.finish(), "\u{feff}Elev;Minuter\r\nÅsa Öberg;45\r\n");
    }

    #[test]
    fn a_cell_with_a_separator_quote_or_line_break_is_quoted_and_quotes_doubled() {
        let mut out = String::new();
        push_cell(&mut out, "Lind; Karin");
        assert_eq!(out, "\"Lind; Karin\"");
        let mut out = String::new();
        push_cell(&mut out, "Sal \"B\"\nplan 2");
        assert_eq!(out, "\"Sal \"\"B\"\"\nplan 2\"");
    }

    #[test]
    fn a_cell_a_spreadsheet_would_read_as_a_formula_gets_a_leading_apostrophe() {
        for (cell, want) in [
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+46701234567", "'+46701234567"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Alva", "Alva"),
            ("a=b", "a=b"),
        ] {
            let mut out = String::new();
            push_cell(&mut out, cell);
            assert_eq!(out, want, "{cell:?}");
        }
    }

    #[test]
    fn decimals_have_a_comma_and_none_is_an_empty_cell() {
        assert_eq!(decimal(Some(43.9)), "43,9");
        assert_eq!(decimal(Some(100.0)), "100,0");
        assert_eq!(decimal(None), "");
    }
}

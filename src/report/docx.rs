//! The official document as DOCX (WordprocessingML), for staff to edit and sign in a word
//! processor: A4, Times New Roman, margins of Nghị định 30/2020/NĐ-CP (top and bottom 20 mm,
//! left 30 mm, right 15 mm), the two-column header block and the signature block as borderless
//! tables, the appendices on landscape pages with their tables.
//!
//! Written by hand with the `zip` crate (already in the tree through the XLSX writer): a
//! handful of parts, every property chosen here, and the same report always gives the same
//! bytes (fixed entry times). The text is the same as Markdown's and HTML's (`text`).

use std::borrow::Borrow;
use std::fmt::Write as _;
use std::io::Write as _;

use super::columns::*;
use super::format::*;
use super::model::*;
use super::text::*;
use super::ReportError;

/// Font sizes in half-points (`w:sz`).
const BODY: u32 = 28; // 14 pt
const HEADER: u32 = 26; // 13 pt
const SMALL: u32 = 24; // 12 pt
const RECIPIENTS: u32 = 22; // 11 pt
const TABLE: u32 = 22; // 11 pt

/// A4 in twentieths of a point, and the margins (1 mm = 56.7 twips).
const A4_W: u32 = 11906;
const A4_H: u32 = 16838;
const MARGIN_TOP: u32 = 1134; // 20 mm
const MARGIN_BOTTOM: u32 = 1134; // 20 mm
const MARGIN_LEFT: u32 = 1701; // 30 mm
const MARGIN_RIGHT: u32 = 850; // 15 mm

/// Escapes text for XML element content and attributes; drops the characters XML 1.0 forbids.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A run of text with its look.
#[derive(Clone, Copy, Default)]
struct Look {
    bold: bool,
    italic: bool,
    size: Option<u32>,
}

const PLAIN: Look = Look {
    bold: false,
    italic: false,
    size: None,
};
const BOLD: Look = Look {
    bold: true,
    italic: false,
    size: None,
};

fn sized(look: Look, size: u32) -> Look {
    Look {
        size: Some(size),
        ..look
    }
}

fn run(o: &mut String, text: &str, look: Look) {
    o.push_str("<w:r>");
    if look.bold || look.italic || look.size.is_some() {
        o.push_str("<w:rPr>");
        if look.bold {
            o.push_str("<w:b/>");
        }
        if look.italic {
            o.push_str("<w:i/>");
        }
        if let Some(sz) = look.size {
            let _ = write!(o, "<w:sz w:val=\"{sz}\"/><w:szCs w:val=\"{sz}\"/>");
        }
        o.push_str("</w:rPr>");
    }
    let _ = write!(o, "<w:t xml:space=\"preserve\">{}</w:t></w:r>", esc(text));
}

/// How a paragraph is laid out.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
    Justify,
}

#[derive(Clone, Copy)]
struct ParaStyle {
    align: Align,
    /// First-line indent, twips.
    indent: u32,
    /// Space after, twips.
    after: u32,
    /// Starts on a new page.
    page_break: bool,
}

const BODY_PARA: ParaStyle = ParaStyle {
    align: Align::Justify,
    indent: 567,
    after: 120,
    page_break: false,
};
const CENTERED: ParaStyle = ParaStyle {
    align: Align::Center,
    indent: 0,
    after: 0,
    page_break: false,
};
const LEFT: ParaStyle = ParaStyle {
    align: Align::Left,
    indent: 0,
    after: 0,
    page_break: false,
};

fn para_open(o: &mut String, st: ParaStyle) {
    let jc = match st.align {
        Align::Left => "left",
        Align::Center => "center",
        Align::Right => "right",
        Align::Justify => "both",
    };
    let _ = write!(
        o,
        "<w:p><w:pPr>{}<w:spacing w:before=\"0\" w:after=\"{}\"/><w:ind w:firstLine=\"{}\"/><w:jc w:val=\"{jc}\"/></w:pPr>",
        if st.page_break {
            "<w:pageBreakBefore/>"
        } else {
            ""
        },
        st.after,
        st.indent
    );
}

/// One paragraph of runs.
fn para(o: &mut String, st: ParaStyle, runs: &[(&str, Look)]) {
    para_open(o, st);
    for (text, look) in runs {
        run(o, text, *look);
    }
    o.push_str("</w:p>");
}

/// A paragraph of the report's spans (bold where the text says), opened by `lead`.
fn spans(o: &mut String, st: ParaStyle, lead: &str, p: &Para) {
    para_open(o, st);
    if !lead.is_empty() {
        run(o, lead, PLAIN);
    }
    for s in p {
        match s {
            Span::Text(x) => run(o, x, PLAIN),
            Span::Bold(x) => run(o, x, BOLD),
            Span::Link(url) => run(o, url, PLAIN),
        }
    }
    o.push_str("</w:p>");
}

/// A borderless table of two cells of `widths` (twips), each a list of paragraphs already
/// written.
fn frame_table(o: &mut String, widths: [u32; 2], cells: [String; 2]) {
    let _ = write!(
        o,
        "<w:tbl><w:tblPr><w:tblW w:w=\"{}\" w:type=\"dxa\"/><w:tblLayout w:type=\"fixed\"/>\
         <w:tblBorders><w:top w:val=\"nil\"/><w:left w:val=\"nil\"/><w:bottom w:val=\"nil\"/>\
         <w:right w:val=\"nil\"/><w:insideH w:val=\"nil\"/><w:insideV w:val=\"nil\"/></w:tblBorders>\
         </w:tblPr><w:tblGrid><w:gridCol w:w=\"{}\"/><w:gridCol w:w=\"{}\"/></w:tblGrid><w:tr>",
        widths[0] + widths[1],
        widths[0],
        widths[1]
    );
    for (w, c) in widths.iter().zip(cells) {
        let _ = write!(
            o,
            "<w:tc><w:tcPr><w:tcW w:w=\"{w}\" w:type=\"dxa\"/></w:tcPr>{c}</w:tc>"
        );
    }
    o.push_str("</w:tr></w:tbl>");
}

/// A short rule under a line of the header block (a paragraph with a top border, centred).
fn rule(o: &mut String, width: u32, cell: u32) {
    let side = cell.saturating_sub(width) / 2;
    let _ = write!(
        o,
        "<w:p><w:pPr><w:pBdr><w:top w:val=\"single\" w:sz=\"6\" w:space=\"1\" w:color=\"000000\"/></w:pBdr>\
         <w:spacing w:before=\"0\" w:after=\"60\"/><w:ind w:left=\"{side}\" w:right=\"{side}\"/>\
         <w:jc w:val=\"center\"/><w:rPr><w:sz w:val=\"8\"/></w:rPr></w:pPr></w:p>"
    );
}

/// A cell of an appendix table: text, right-aligned when a number.
struct Cell {
    text: String,
    number: bool,
    bold: bool,
}

fn plain_cell<R>(get: &Get<R>, index: usize, r: &R) -> Cell {
    let text = match get {
        Get::Index => index.to_string(),
        Get::Text(f) | Get::Code(f) => f(r).to_string(),
        Get::Coded { get, .. } => get(r).1.to_string(),
        Get::Names(f) => match f(r) {
            [] => "—".to_string(),
            names => names.join("; "),
        },
        Get::Time(f) => fmt_opt_time_vi(&f(r)),
        Get::Count(f) => fmt_int_vi(f(r)),
        Get::Days(f) => fmt_days(f(r)),
        Get::Points(f) => fmt_vi(f(r), 2),
        Get::SignedPoints(f) => fmt_signed_vi(f(r), 2),
    };
    Cell {
        text,
        number: get.is_number(),
        bold: false,
    }
}

fn cells<R, B: Borrow<R>>(
    columns: &[Column<R>],
    rows: impl IntoIterator<Item = B>,
) -> Vec<Vec<Cell>> {
    document_cells(columns, rows, plain_cell)
}

/// The columns' widths over `width` twips, in proportion to their XLSX widths (equal when
/// none has one).
fn widths<R>(columns: &[Column<R>], width: u32) -> Vec<u32> {
    let weights: Vec<f64> = shown(columns, Target::Document)
        .map(|c| c.width.unwrap_or(12.0).max(1.0))
        .collect();
    let total: f64 = weights.iter().sum();
    weights
        .iter()
        .map(|w| (f64::from(width) * w / total).floor() as u32)
        .collect()
}

/// A bordered table of `columns` with a bold, shaded header row repeated on each page.
fn data_table<R>(o: &mut String, width: u32, columns: &[Column<R>], rows: &[Vec<Cell>]) {
    let headers = column_headers(columns, Target::Document);
    let cols = widths(columns, width);
    let _ = write!(
        o,
        "<w:tbl><w:tblPr><w:tblW w:w=\"{width}\" w:type=\"dxa\"/><w:tblLayout w:type=\"fixed\"/>\
         <w:tblBorders><w:top w:val=\"single\" w:sz=\"4\"/><w:left w:val=\"single\" w:sz=\"4\"/>\
         <w:bottom w:val=\"single\" w:sz=\"4\"/><w:right w:val=\"single\" w:sz=\"4\"/>\
         <w:insideH w:val=\"single\" w:sz=\"4\"/><w:insideV w:val=\"single\" w:sz=\"4\"/></w:tblBorders>\
         <w:tblCellMar><w:left w:w=\"60\" w:type=\"dxa\"/><w:right w:w=\"60\" w:type=\"dxa\"/></w:tblCellMar>\
         </w:tblPr><w:tblGrid>"
    );
    for col in &cols {
        let _ = write!(o, "<w:gridCol w:w=\"{col}\"/>");
    }
    o.push_str("</w:tblGrid><w:tr><w:trPr><w:tblHeader/></w:trPr>");
    for (h, col) in headers.iter().zip(&cols) {
        let _ = write!(
            o,
            "<w:tc><w:tcPr><w:tcW w:w=\"{col}\" w:type=\"dxa\"/><w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"E7ECF2\"/></w:tcPr>"
        );
        para(o, CENTERED, &[(h, sized(BOLD, TABLE))]);
        o.push_str("</w:tc>");
    }
    o.push_str("</w:tr>");
    for row in rows {
        o.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
        for (c, col) in row.iter().zip(&cols) {
            let _ = write!(
                o,
                "<w:tc><w:tcPr><w:tcW w:w=\"{col}\" w:type=\"dxa\"/></w:tcPr>"
            );
            let st = ParaStyle {
                align: if c.number { Align::Right } else { Align::Left },
                ..LEFT
            };
            let look = Look {
                bold: c.bold,
                ..sized(PLAIN, TABLE)
            };
            para(o, st, &[(&c.text, look)]);
            o.push_str("</w:tc>");
        }
        o.push_str("</w:tr>");
    }
    o.push_str("</w:tbl>");
    para(o, LEFT, &[]);
}

fn heading(o: &mut String, text: &str, page_break: bool) {
    para(
        o,
        ParaStyle {
            align: Align::Justify,
            indent: 567,
            after: 120,
            page_break,
        },
        &[(text, BOLD)],
    );
}

fn section_properties(o: &mut String, landscape: bool) {
    let (w, h, orient) = if landscape {
        (A4_H, A4_W, " w:orient=\"landscape\"")
    } else {
        (A4_W, A4_H, "")
    };
    let _ = write!(
        o,
        "<w:sectPr><w:pgSz w:w=\"{w}\" w:h=\"{h}\"{orient}/>\
         <w:pgMar w:top=\"{MARGIN_TOP}\" w:right=\"{MARGIN_RIGHT}\" w:bottom=\"{MARGIN_BOTTOM}\" w:left=\"{MARGIN_LEFT}\" w:header=\"567\" w:footer=\"567\" w:gutter=\"0\"/>\
         </w:sectPr>"
    );
}

/// `word/document.xml` of the official document.
fn document_xml(d: &Doc) -> String {
    let r = d.r;
    let text_w = A4_W - MARGIN_LEFT - MARGIN_RIGHT;
    let mut o = String::new();
    o.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>",
    );

    // The header block.
    let left_w = text_w * 2 / 5;
    let right_w = text_w - left_w;
    let (parent, authority) = d.authority();
    let mut left = String::new();
    para(&mut left, CENTERED, &[(&parent, sized(PLAIN, HEADER))]);
    para(&mut left, CENTERED, &[(&authority, sized(BOLD, HEADER))]);
    rule(&mut left, 1000, left_w);
    para(&mut left, CENTERED, &[(&d.number(), sized(PLAIN, HEADER))]);
    let mut right = String::new();
    para(&mut right, CENTERED, &[(QUOC_HIEU, sized(BOLD, SMALL))]);
    para(&mut right, CENTERED, &[(TIEU_NGU, sized(BOLD, BODY))]);
    rule(&mut right, 2800, right_w);
    para(
        &mut right,
        CENTERED,
        &[(
            &d.date_line(),
            Look {
                italic: true,
                ..sized(PLAIN, BODY)
            },
        )],
    );
    frame_table(&mut o, [left_w, right_w], [left, right]);

    // The kind and abstract.
    para(
        &mut o,
        ParaStyle {
            after: 0,
            ..CENTERED
        },
        &[],
    );
    para(&mut o, CENTERED, &[(DOC_KIND, BOLD)]);
    para(
        &mut o,
        ParaStyle {
            after: 240,
            ..CENTERED
        },
        &[(&title(r), BOLD)],
    );
    for p in d.legal_basis() {
        para(&mut o, BODY_PARA, &[(&p, PLAIN)]);
    }

    heading(&mut o, &section_1_heading(r), false);
    for p in section_1_bullets(r) {
        spans(&mut o, BODY_PARA, "- ", &p);
    }
    heading(&mut o, SECTION_2_HEADING, false);
    for p in section_2_bullets(r, &d.w) {
        spans(&mut o, BODY_PARA, "- ", &p);
    }
    heading(&mut o, SECTION_3_HEADING, false);
    for p in d.section_3_bullets() {
        spans(&mut o, BODY_PARA, "- ", &p);
    }
    para(&mut o, BODY_PARA, &[(&d.closing(), PLAIN)]);

    // The signature block: "Nơi nhận" on the left, the signatory on the right.
    let (title_lines, name) = d.signatory();
    let mut left = String::new();
    para(
        &mut left,
        LEFT,
        &[(
            RECIPIENTS_HEADING,
            Look {
                bold: true,
                italic: true,
                size: Some(SMALL),
            },
        )],
    );
    for x in d.recipients() {
        para(
            &mut left,
            LEFT,
            &[(&format!("- {x}"), sized(PLAIN, RECIPIENTS))],
        );
    }
    let mut right = String::new();
    for l in &title_lines {
        para(&mut right, CENTERED, &[(l, BOLD)]);
    }
    for _ in 0..4 {
        para(&mut right, CENTERED, &[]);
    }
    para(&mut right, CENTERED, &[(&name, BOLD)]);
    let half = text_w / 2;
    frame_table(&mut o, [half, text_w - half], [left, right]);

    // The portrait section ends here; the appendices are landscape.
    o.push_str("<w:p><w:pPr>");
    section_properties(&mut o, false);
    o.push_str("</w:pPr></w:p>");

    let wide = A4_H - MARGIN_LEFT - MARGIN_RIGHT;
    appendix_heading(&mut o, APPENDIX_1_TITLE, false);
    let groups: Vec<_> = r.appendix_1.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        para(&mut o, LEFT, &[(NO_DOSSIER, PLAIN)]);
    }
    let columns = appendix_1();
    for (i, g) in groups.into_iter().enumerate() {
        para(&mut o, LEFT, &[(&agency_heading(i, g), BOLD)]);
        data_table(&mut o, wide, &columns, &cells(&columns, lines_of(g)));
    }

    appendix_heading(&mut o, APPENDIX_2_TITLE, true);
    let groups: Vec<_> = r.appendix_2.iter().filter(|g| !g.rows.is_empty()).collect();
    if groups.is_empty() {
        para(&mut o, LEFT, &[(NO_DOSSIER, PLAIN)]);
    } else {
        let columns = appendix_2_summary();
        data_table(
            &mut o,
            wide,
            &columns,
            &cells(&columns, groups.iter().copied()),
        );
    }
    let columns = appendix_2_for(d.s.show_officials);
    for (i, g) in groups.into_iter().enumerate() {
        para(&mut o, LEFT, &[(&agency_heading(i, g), BOLD)]);
        data_table(&mut o, wide, &columns, &cells(&columns, lines_of(g)));
    }
    section_properties(&mut o, true);
    o.push_str("</w:body></w:document>\n");
    o
}

fn appendix_heading(o: &mut String, title: &str, page_break: bool) {
    let (label, rest) = title.split_once(". ").unwrap_or((title, ""));
    para(
        o,
        ParaStyle {
            page_break,
            ..CENTERED
        },
        &[(&label.to_uppercase(), BOLD)],
    );
    para(
        o,
        ParaStyle {
            after: 200,
            ..CENTERED
        },
        &[(rest, BOLD)],
    );
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
<Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
</Types>\n";

const RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
</Relationships>\n";

const DOCUMENT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
</Relationships>\n";

/// Times New Roman 14 pt for everything, Vietnamese proofing.
const STYLES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
<w:docDefaults><w:rPrDefault><w:rPr>\
<w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:eastAsia=\"Times New Roman\" w:cs=\"Times New Roman\"/>\
<w:sz w:val=\"28\"/><w:szCs w:val=\"28\"/><w:lang w:val=\"vi-VN\"/></w:rPr></w:rPrDefault>\
<w:pPrDefault><w:pPr><w:spacing w:after=\"0\" w:line=\"264\" w:lineRule=\"auto\"/></w:pPr></w:pPrDefault>\
</w:docDefaults>\
<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/>\
<w:tblPr><w:tblCellMar><w:left w:w=\"108\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style>\
</w:styles>\n";

fn core_xml(r: &MonthlyReport) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
<dc:title>{}</dc:title><dc:language>vi-VN</dc:language>\
<dcterms:created xsi:type=\"dcterms:W3CDTF\">{}</dcterms:created></cp:coreProperties>\n",
        esc(&title(r)),
        r.generated_at.format("%Y-%m-%dT%H:%M:%S+07:00")
    )
}

/// The official document as a DOCX file.
pub(crate) fn render(d: &Doc) -> Result<Vec<u8>, ReportError> {
    let parts: [(&str, String); 6] = [
        ("[Content_Types].xml", CONTENT_TYPES.to_string()),
        ("_rels/.rels", RELS.to_string()),
        ("docProps/core.xml", core_xml(d.r)),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS.to_string()),
        ("word/styles.xml", STYLES.to_string()),
        ("word/document.xml", document_xml(d)),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed time: the same report gives the same bytes.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, body) in parts {
        zip.start_file(name, options)
            .map_err(|e| ReportError::Docx(e.to_string()))?;
        zip.write_all(body.as_bytes())
            .map_err(|e| ReportError::Docx(e.to_string()))?;
    }
    Ok(zip
        .finish()
        .map_err(|e| ReportError::Docx(e.to_string()))?
        .into_inner())
}

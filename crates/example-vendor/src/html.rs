//! The pages' frame and HTML escaping. The pages are small and written by hand: the app is
//! an example of the vendor's side, not a template for a real site.

use axum::response::Html;

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `315000009` → `315 000 009`.
pub fn org_number(org: &str) -> String {
    if org.len() == 9 && org.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {}", &org[..3], &org[3..6], &org[6..])
    } else {
        org.to_string()
    }
}

/// `48750` → `48 750 kr`.
pub fn kroner(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    format!("{out}\u{a0}kr")
}

const STYLE: &str = r#"
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1f;background:#f6f7fb;line-height:1.5}
header{background:#10375c;color:#fff;padding:.8rem 1.5rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header a{color:#fff}
.brand{font-weight:700;font-size:1.25rem;text-decoration:none}
nav{display:flex;gap:1rem;margin-left:auto}
main{max-width:56rem;margin:0 auto;padding:1.5rem}
.hero{background:#fff;border-radius:8px;padding:2rem;margin-bottom:1.5rem}
.hero h1{font-size:2.2rem;margin:.2rem 0 1rem}
.card{background:#fff;border-radius:8px;padding:1.2rem 1.5rem;margin-bottom:1.2rem;border:1px solid #d6dae3}
.button,button{display:inline-block;background:#1a5b96;color:#fff;border:0;border-radius:6px;padding:.6rem 1.1rem;font-size:1rem;text-decoration:none;cursor:pointer}
.button.secondary{background:#fff;color:#1a5b96;border:2px solid #1a5b96}
label{display:block;font-weight:600;margin:.8rem 0 .3rem}
input{font-size:1rem;padding:.5rem;border:1px solid #6b7280;border-radius:4px;width:16rem;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d6dae3}
td.amount,th.amount{text-align:right}
.refusal{border-left:6px solid #b3261e;background:#fdf0ef}
.ok{border-left:6px solid #1e7d3a}
.status{font-weight:700}
.hint{color:#4b5563}
code{background:#eef0f4;padding:0 .25rem;border-radius:3px}
footer{max-width:56rem;margin:0 auto;padding:1rem 1.5rem;color:#4b5563;font-size:.9rem}
"#;

/// A whole page: header with the vendor's name, `body` in `<main>`.
pub fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – SmartRegnskap</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<a class="brand" href="/">SmartRegnskap <span aria-hidden="true">·</span> SmartCloud</a>
<nav aria-label="Hovedmeny"><a href="/">Forside</a><a href="/login">Logg inn</a><a href="/signup">Prøv gratis</a><a href="/signup/accountant">For regnskapsførere</a></nav>
</header>
<main>
{body}
</main>
<footer>SmartRegnskap er et demoprogram fra systembruker-prosjektet: SmartCloud AS (991 825 827) er en oppdiktet leverandør.</footer>
</body>
</html>"#,
        title = esc(title),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn numbers_are_grouped_as_norwegians_write_them() {
        assert_eq!(org_number("315000009"), "315 000 009");
        assert_eq!(kroner(48_750), "48\u{a0}750\u{a0}kr");
        assert_eq!(kroner(500), "500\u{a0}kr");
        assert_eq!(kroner(1_234_567), "1\u{a0}234\u{a0}567\u{a0}kr");
    }
}

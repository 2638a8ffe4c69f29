//! A browser for the portal: pages as a browser without JavaScript sees them, forms with
//! their CSRF token, the test login and the party choice, and the catalogue's texts.

use regex::Regex;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use systembruker_http::testing::TestServer;

use super::browser;

pub const UI: &str = "/accessmanagement/ui";

/// One answer of the portal.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    /// The CSRF token in the page's forms.
    pub fn csrf(&self) -> String {
        super::csrf_in(&self.body)
    }

    pub fn has(&self, text: &str) -> bool {
        self.body.contains(&escape(text))
    }

    pub fn assert_has(&self, text: &str) {
        assert!(self.has(text), "{text:?} not in page:\n{}", self.body);
    }

    pub fn assert_lacks(&self, text: &str) {
        assert!(!self.has(text), "{text:?} in page:\n{}", self.body);
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap().to_string())
            .collect()
    }
}

/// Text as askama escapes it in HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// HTML as askama escaped it, back to text.
pub fn unescape(text: &str) -> String {
    text.replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#62;", ">")
        .replace("&#60;", "<")
        .replace("&#38;", "&")
}

pub async fn read(response: reqwest::Response) -> Page {
    Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// A path on the server, or a full URL as it is.
fn absolute(server: &TestServer, url: &str) -> String {
    if url.starts_with("http") {
        url.to_string()
    } else {
        server.at(url)
    }
}

pub async fn get(client: &Client, server: &TestServer, url: &str) -> Page {
    read(client.get(absolute(server, url)).send().await.unwrap()).await
}

pub async fn post(client: &Client, server: &TestServer, url: &str, form: &[(&str, &str)]) -> Page {
    read(
        client
            .post(absolute(server, url))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A catalogue text in bokmål, as the pages show it by default.
pub fn nb(key: &str) -> String {
    text("nb", key)
}

pub fn text(language: &str, key: &str) -> String {
    let source = match language {
        "nb" => include_str!("../../i18n/nb.json"),
        "nn" => include_str!("../../i18n/nn.json"),
        _ => include_str!("../../i18n/en.json"),
    };
    let map: serde_json::Map<String, Value> = serde_json::from_str(source).unwrap();
    map[key].as_str().unwrap().to_string()
}

/// Logs `pid` in through the test login, coming back to `goto`.
pub async fn log_in(client: &Client, server: &TestServer, pid: &str, goto: &str) -> Page {
    let form = get(client, server, &format!("{UI}/login/test")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let done = post(
        client,
        server,
        &format!("{UI}/login/test"),
        &[("csrf", &form.csrf()), ("pid", pid), ("goto", goto)],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    done
}

/// A browser logged in as `pid`, on the overview.
pub async fn logged_in(server: &TestServer, pid: &str) -> Client {
    let client = browser();
    log_in(&client, server, pid, &format!("{UI}/systemuser/overview")).await;
    client
}

/// Picks the party named `name` on the party page.
pub async fn choose_party(client: &Client, server: &TestServer, name: &str) {
    let page = get(client, server, &format!("{UI}/party")).await;
    let pattern = Regex::new(&format!(
        r#"name="party" value="([0-9a-f-]{{36}})">\s*<button[^>]*>\s*<span class="choice-name">{}<"#,
        regex::escape(&escape(name))
    ))
    .unwrap();
    let party = pattern
        .captures(&page.body)
        .unwrap_or_else(|| panic!("{name} not on the party page:\n{}", page.body))[1]
        .to_string();
    let chosen = post(
        client,
        server,
        &format!("{UI}/party"),
        &[
            ("csrf", &page.csrf()),
            ("party", &party),
            ("goto", &format!("{UI}/systemuser/overview")),
        ],
    )
    .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
}

//! SmartCloud's calls to the platform and to the provider's API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use systembruker_provider_guard::{MaskinportenClient, TokenError};

/// The scopes SmartCloud's client uses for the platform's vendor APIs.
pub const VENDOR_SCOPES: &str = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.write altinn:authentication/systemuser.request.read";
/// The provider's scope.
pub const DEMO_SCOPE: &str = "skatteetaten:kravogbetalinger";
pub const DEMO_RESOURCE: &str = "ske-krav-og-betalinger";
pub const SMARTCLOUD: &str = "991825827";
/// What the accountant's agent system user gets.
pub const AGENT_PACKAGE: &str = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet";
/// What the change request asks for in addition.
pub const EXTRA_PACKAGE: &str = "urn:altinn:accesspackage:skatt-naering";

/// A failed call, with what the other side said.
#[derive(Debug, Clone)]
pub struct CallError {
    pub status: Option<StatusCode>,
    pub detail: String,
    pub code: Option<String>,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.status, &self.code) {
            (Some(status), Some(code)) => write!(f, "{status} {code}: {}", self.detail),
            (Some(status), None) => write!(f, "{status}: {}", self.detail),
            _ => f.write_str(&self.detail),
        }
    }
}

impl From<TokenError> for CallError {
    fn from(error: TokenError) -> Self {
        Self {
            status: None,
            code: error.code().map(str::to_string),
            detail: error.to_string(),
        }
    }
}

/// Reads the problem JSON's detail and code (or `errors[0]`'s) from an error answer.
fn problem(status: StatusCode, body: &Value) -> CallError {
    let first = body.pointer("/errors/0");
    let detail = body["detail"]
        .as_str()
        .or_else(|| first.and_then(|e| e["title"].as_str()))
        .or_else(|| body["title"].as_str())
        .unwrap_or("no details")
        .to_string();
    let code = body["code"]
        .as_str()
        .or_else(|| first.and_then(|e| e["code"].as_str()))
        .map(str::to_string);
    CallError {
        status: Some(status),
        detail,
        code,
    }
}

pub struct Platform {
    pub url: String,
    pub http: reqwest::Client,
    pub client: MaskinportenClient,
    pub system_id: String,
}

impl Platform {
    /// A call with `token`; a non-success answer is an error carrying its problem JSON.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| CallError {
            status: None,
            code: None,
            detail: format!("{url} does not answer: {e}"),
        })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(problem(status, &body))
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}/authentication/api/v1/{path}", self.url)
    }

    async fn vendor_token(&self) -> Result<String, CallError> {
        Ok(self.client.scope_token(VENDOR_SCOPES).await?)
    }

    /// Adds this app's client id and receipt URL to the system (full replace, as the API
    /// wants), keeping what is there.
    pub async fn register_on_system(&self, receipt_url: &str) -> Result<(), CallError> {
        let token = self.vendor_token().await?;
        let url = self.api(&format!("systemregister/vendor/{}", self.system_id));
        let mut system = self.call(Method::GET, &url, &token, None).await?;
        let add = |list: &mut Value, item: &str| {
            if !list.is_array() {
                *list = json!([]);
            }
            if let Some(items) = list.as_array_mut()
                && !items.iter().any(|i| i == item)
            {
                items.push(json!(item));
            }
        };
        add(&mut system["clientId"], self.client.client_id());
        add(&mut system["allowedRedirectUrls"], receipt_url);
        self.call(Method::PUT, &url, &token, Some(&system)).await?;
        Ok(())
    }

    /// A standard request for the demo resource; returns the request (with `confirmUrl`).
    pub async fn request_standard(
        &self,
        org: &str,
        external_ref: &str,
        redirect: &str,
    ) -> Result<Value, CallError> {
        let body = json!({
            "systemId": self.system_id, "partyOrgNo": org, "externalRef": external_ref,
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
            "redirectUrl": redirect,
        });
        let token = self.vendor_token().await?;
        self.call(
            Method::POST,
            &self.api("systemuser/request/vendor"),
            &token,
            Some(&body),
        )
        .await
    }

    /// An agent request (system user for clients) for an accounting firm.
    pub async fn request_agent(
        &self,
        firm: &str,
        external_ref: &str,
        redirect: &str,
    ) -> Result<Value, CallError> {
        let body = json!({
            "systemId": self.system_id, "partyOrgNo": firm, "externalRef": external_ref,
            "accessPackages": [{"urn": AGENT_PACKAGE}],
            "redirectUrl": redirect,
        });
        let token = self.vendor_token().await?;
        self.call(
            Method::POST,
            &self.api("systemuser/request/vendor/agent"),
            &token,
            Some(&body),
        )
        .await
    }

    /// A request's current state (`status`: New, Accepted, Rejected, Denied, Timedout).
    pub async fn request_status(&self, id: &str, agent: bool) -> Result<Value, CallError> {
        let path = if agent {
            format!("systemuser/request/vendor/agent/{id}")
        } else {
            format!("systemuser/request/vendor/{id}")
        };
        let token = self.vendor_token().await?;
        self.call(Method::GET, &self.api(&path), &token, None).await
    }

    /// A change request: also the package [`EXTRA_PACKAGE`] for system user `user`.
    pub async fn request_change(
        &self,
        user: &str,
        correlation: &str,
        redirect: &str,
    ) -> Result<Value, CallError> {
        let body = json!({
            "requiredAccessPackages": [{"urn": EXTRA_PACKAGE}],
            "redirectUrl": redirect,
        });
        let url = self.api(&format!(
            "systemuser/changerequest/vendor?correlation-id={correlation}&system-user-id={user}"
        ));
        let token = self.vendor_token().await?;
        self.call(Method::POST, &url, &token, Some(&body)).await
    }

    pub async fn change_status(&self, id: &str) -> Result<Value, CallError> {
        let token = self.vendor_token().await?;
        let url = self.api(&format!("systemuser/changerequest/vendor/{id}"));
        self.call(Method::GET, &url, &token, None).await
    }

    /// The organisation's name from the register, or its number when it cannot be read.
    pub async fn organisation_name(&self, org: &str) -> String {
        let Ok(token) = self.vendor_token().await else {
            return org.to_string();
        };
        let url = format!("{}/register/api/v1/organizations/{org}", self.url);
        match self.call(Method::GET, &url, &token, None).await {
            Ok(body) => body["name"].as_str().unwrap_or(org).to_string(),
            Err(_) => org.to_string(),
        }
    }

    /// The person's token for the vendor's client-delegation API. In production the person
    /// logs in to the vendor's app with ID-porten and the app gets a token with the
    /// `altinn:clientdelegations.*` scopes; the demo asks the platform's dev-mode test tools
    /// for the same token.
    pub async fn person_token(&self, pid: &str) -> Result<String, CallError> {
        let url = format!("{}/testtools/api/GetPersonalToken", self.url);
        let response = self
            .http
            .get(&url)
            .query(&[
                ("pid", pid),
                ("org", SMARTCLOUD),
                (
                    "scopes",
                    "altinn:clientdelegations.read altinn:clientdelegations.write",
                ),
            ])
            .send()
            .await
            .map_err(|e| CallError {
                status: None,
                code: None,
                detail: format!("{url} does not answer: {e}"),
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(text.trim().to_string())
        } else {
            Err(CallError {
                status: Some(status),
                code: None,
                detail: format!("the platform's test tools gave no token: {text}"),
            })
        }
    }

    /// The agent's clients: `available` (may be added) or delegated.
    pub async fn clients(
        &self,
        person: &str,
        agent: &str,
        available: bool,
    ) -> Result<Vec<Value>, CallError> {
        let path = if available {
            "enduser/systemuser/clients/available"
        } else {
            "enduser/systemuser/clients"
        };
        let url = format!("{}?agent={agent}", self.api(path));
        let body = self.call(Method::GET, &url, person, None).await?;
        Ok(body["data"].as_array().cloned().unwrap_or_default())
    }

    pub async fn add_client(
        &self,
        person: &str,
        agent: &str,
        client: &str,
    ) -> Result<(), CallError> {
        let url = format!(
            "{}?agent={agent}&client={client}",
            self.api("enduser/systemuser/clients")
        );
        self.call(Method::POST, &url, person, None)
            .await
            .map(|_| ())
    }
}

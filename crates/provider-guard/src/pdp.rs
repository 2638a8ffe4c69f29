//! One question to the platform's PDP (`POST {platform}/authorization/api/v1/authorize`,
//! XACML 3.0 JSON profile): may this system user do `action` on `resource` for `party`?

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{Refusal, TokenSource};

pub struct Pdp {
    pub url: String,
    pub http: reqwest::Client,
    pub credentials: Arc<dyn TokenSource>,
}

/// The XACML JSON request for one decision.
pub fn request_body(system_user: &str, action: &str, resource: &str, party: &str) -> Value {
    let attribute = |id: &str, value: &str| json!({"AttributeId": id, "Value": value});
    json!({"Request": {
        "AccessSubject": [{"Attribute": [attribute("urn:altinn:systemuser:uuid", system_user)]}],
        "Action": [{"Attribute": [attribute("urn:oasis:names:tc:xacml:1.0:action:action-id", action)]}],
        "Resource": [{"Attribute": [
            attribute("urn:altinn:resource", resource),
            attribute("urn:altinn:organization:identifier-no", party),
        ]}],
    }})
}

impl Pdp {
    /// The decision (`Permit`, `Deny`, `NotApplicable`, `Indeterminate`). Anything that is
    /// not an answer from the PDP is `PdpUnavailable`: the caller must refuse then.
    pub async fn decide(
        &self,
        system_user: &str,
        action: &str,
        resource: &str,
        party: &str,
    ) -> Result<String, Refusal> {
        let token = self
            .credentials
            .token()
            .await
            .map_err(|e| Refusal::PdpUnavailable(format!("no token for the PDP: {e}")))?;
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(&request_body(system_user, action, resource, party))
            .send()
            .await
            .map_err(|e| Refusal::PdpUnavailable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(Refusal::PdpUnavailable(format!(
                "HTTP {status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| Refusal::PdpUnavailable(format!("unreadable answer: {e}")))?;
        body.pointer("/Response/0/Decision")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Refusal::PdpUnavailable("the answer holds no decision".into()))
    }
}

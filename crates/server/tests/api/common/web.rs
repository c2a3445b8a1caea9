//! A browser without a browser: keeps the session cookie and reads each
//! page's CSRF token the way a form would, for tests of the web UI's forms
//! over plain HTTP.
#![allow(dead_code)]

pub struct Web {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: String,
}

pub fn value_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let start = html.find(marker)? + marker.len();
    html[start..].split('"').next()
}

pub fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

impl Web {
    pub fn new(base: &str) -> Web {
        Web {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: String::new(),
        }
    }

    /// Fills the sign-in form; returns the response to the post.
    pub async fn try_sign_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let form = self.http.get(format!("{}/login", self.base)).send().await.unwrap();
        let login_cookie = cookie_of(&form, "recado_login_csrf").expect("the form sets its CSRF cookie");
        let html = form.text().await.unwrap();
        let csrf = value_after(&html, r#"name="csrf" value=""#).unwrap().to_string();
        let r = self
            .http
            .post(format!("{}/login", self.base))
            .header("cookie", login_cookie)
            .form(&[("email", email), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        if let Some(session) = cookie_of(&r, "recado_session") {
            self.cookie = session;
        }
        r
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) {
        let r = self.try_sign_in(email, password).await;
        assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
        assert!(!self.cookie.is_empty());
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The CSRF token of a page's forms.
    pub async fn csrf(&self, path: &str) -> String {
        let (status, html) = self.get(path).await;
        assert_eq!(status, 200, "{html}");
        value_after(&html, r#"name="csrf" value=""#).unwrap().to_string()
    }

    /// Posts a form; returns the status and the redirect target.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status().as_u16(), location)
    }
}

impl Web {
    /// Posts a form and returns the status and the page it answered with.
    pub async fn post_page(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts a form with the CSRF token of the page at `from`, following a
    /// redirect; returns the final status and page.
    pub async fn submit(&self, from: &str, action: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let csrf = self.csrf(from).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let r = self
            .http
            .post(format!("{}{action}", self.base))
            .header("cookie", &self.cookie)
            .form(&all)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        if let Some(location) = r.headers().get("location") {
            let location = location.to_str().unwrap().to_string();
            return self.get(&location).await;
        }
        (status, r.text().await.unwrap())
    }
}

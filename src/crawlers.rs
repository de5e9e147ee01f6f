//! User agents whose requests for a click URL are not clicks: search engine
//! crawlers and the link-preview fetchers of chat and social apps. Pure
//! functions, no I/O.

/// Lowercase substrings that mark a crawler or link-preview user agent.
/// Named products first, then generic markers that browsers never send:
/// `+http` is the contact URL that well-behaved bots add, and `bot/`,
/// `crawler` and `spider` are the usual product names.
///
/// Command-line clients and HTTP libraries (curl, wget, python-requests)
/// are not listed: they are neither crawlers nor previewers, and an admin
/// who checks a click URL with `curl -i` expects the click to be recorded.
const CRAWLER_MARKERS: &[&str] = &[
    // Search engines.
    "googlebot",
    "google-inspectiontool",
    "googleother",
    "adsbot-google",
    "mediapartners-google",
    "feedfetcher-google",
    "storebot-google",
    "bingbot",
    "bingpreview",
    "msnbot",
    "yandexbot",
    "baiduspider",
    "duckduckbot",
    "applebot",
    "petalbot",
    "slurp",
    // Link previews in chat and social apps.
    "slackbot",
    "slack-imgproxy",
    "facebookexternalhit",
    "facebot",
    "meta-externalagent",
    "twitterbot",
    "linkedinbot",
    "discordbot",
    "whatsapp",
    "telegrambot",
    "skypeuripreview",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "mastodon",
    "bluesky",
    "vkshare",
    // Headless browsers used for previews and prerendering.
    "headlesschrome",
    "prerender",
    // Generic markers.
    "+http",
    "bot/",
    "crawler",
    "spider",
];

/// Tells whether a `User-Agent` value belongs to a crawler or link-preview
/// fetcher, by a case-insensitive substring match on `CRAWLER_MARKERS`. A
/// missing or empty user agent is not a crawler.
pub fn is_crawler(user_agent: &str) -> bool {
    let user_agent = user_agent.to_ascii_lowercase();
    CRAWLER_MARKERS
        .iter()
        .any(|marker| user_agent.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawlers_and_previewers_are_detected() {
        for user_agent in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; \
             Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Slackbot 1.0 (+https://api.slack.com/robots)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "facebookexternalhit/1.1 Facebot Twitterbot/1.0",
            "Twitterbot/1.0",
            "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "WhatsApp/2.23.20.0 A",
            "TelegramBot (like TwitterBot)",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, \
             like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; \
             +http://www.apple.com/go/applebot)",
            "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
            "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
             HeadlessChrome/120.0.0.0 Safari/537.36",
            "Some-Crawler 2.0",
            "GOOGLEBOT",
        ] {
            assert!(is_crawler(user_agent), "{user_agent}");
        }
    }

    #[test]
    fn browsers_and_clients_are_not_crawlers() {
        for user_agent in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.6099.144 Mobile Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
            "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.0.0 Mobile Safari/537.36",
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.31.0",
            "",
        ] {
            assert!(!is_crawler(user_agent), "{user_agent}");
        }
    }
}

//! Evaluation against the article-extraction benchmark (placeholder, filled in next).

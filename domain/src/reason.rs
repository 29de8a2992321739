//! Why a value was refused, in the two languages people read it in: English, which the API, the
//! command line and the logs have always said (and tests assert), and Vietnamese, which the
//! station's forms show next to the field a person typed. Both are written where the refusal is
//! decided, so that no front end has to guess a translation from an English sentence.

use std::fmt;

/// A refusal's reason. `Display` is the English reason, so that every existing message reads as
/// before; [`vi`](Reason::vi) is a whole Vietnamese sentence that names what was wrong, to be shown
/// on its own next to a form's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    en: String,
    vi: String,
}

impl Reason {
    /// A reason given in both languages.
    pub(crate) fn new(en: impl Into<String>, vi: impl Into<String>) -> Self {
        Reason { en: en.into(), vi: vi.into() }
    }

    /// The English reason, as the API and the command line write it.
    pub fn en(&self) -> &str {
        &self.en
    }

    /// The Vietnamese sentence, as the forms show it.
    pub fn vi(&self) -> &str {
        &self.vi
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

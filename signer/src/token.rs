//! A [`PdfSigner`] whose key never leaves a PKCS #11 token: an official's USB token, an HSM, or
//! SoftHSM2 in the tests.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use zeroize::Zeroizing;

use crate::x509::{SignatureAlgorithm, read_pem_certificates, subject};
use crate::{PdfSigner, SignerError};

/// Where the key is: the PKCS #11 module, the token's label, the private key's label, the user PIN,
/// and the PEM chain of the key's certificate.
pub struct TokenConfig {
    /// The PKCS #11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The label of the token (CKA_LABEL of its token info).
    pub token: String,
    /// The label of the private key on the token.
    pub key: String,
    /// The user PIN, wiped from memory when dropped.
    pub pin: Zeroizing<String>,
    /// The certificate chain of the key, signer first.
    pub chain: PathBuf,
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The PIN is a secret: it is never formatted.
        f.debug_struct("TokenConfig")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("key", &self.key)
            .field("chain", &self.chain)
            .finish()
    }
}

/// A logged-in session on a token and the handle of the signing key. PKCS #11 sessions are not to
/// be used by two threads at once, hence the mutex. The PIN is kept (as a zeroizing secret) to log
/// in again when the token forgets the login: it was removed and put back, or another application
/// logged out.
pub struct TokenSigner {
    login: Mutex<Login>,
    module: PathBuf,
    token: String,
    key_label: String,
    pin: AuthPin,
    chain: Vec<Certificate>,
    algorithm: SignatureAlgorithm,
}

/// An open, logged-in session and the key's handle in it.
struct Login {
    session: Session,
    key: ObjectHandle,
}

/// One initialised context per module for the whole process: PKCS #11 allows `C_Initialize` once
/// per module, and finalising it would end the sessions of every other signer on that module.
fn context(module: &Path) -> Result<Pkcs11, SignerError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = CONTEXTS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(context) = contexts.get(module) {
        return Ok(context.clone());
    }
    let context = Pkcs11::new(module).map_err(token_error(&module_name(module)))?;
    context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)).map_err(token_error("C_Initialize"))?;
    contexts.insert(module.to_owned(), context.clone());
    Ok(context)
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("subject", &subject(&self.chain[0]))
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

fn token_error(what: &str) -> impl FnOnce(cryptoki::error::Error) -> SignerError + '_ {
    move |e| SignerError::Token(format!("{what}: {e}"))
}

impl TokenSigner {
    /// Loads the module, finds the token by label, logs in and finds the private key by label.
    pub fn open(config: &TokenConfig) -> Result<Self, SignerError> {
        let chain = read_pem_certificates(&config.chain)?;
        let algorithm = SignatureAlgorithm::for_certificate(&chain[0])?;
        let pin = AuthPin::from(config.pin.as_str());
        let login = log_in(&config.module, &config.token, &config.key, &pin)?;
        Ok(TokenSigner {
            login: Mutex::new(login),
            module: config.module.clone(),
            token: config.token.clone(),
            key_label: config.key.clone(),
            pin,
            chain,
            algorithm,
        })
    }
}

/// Finds the token by label (its slot may change when it is put back), opens a session, logs in and
/// finds the private key by label.
fn log_in(module: &Path, token: &str, key_label: &str, pin: &AuthPin) -> Result<Login, SignerError> {
    let context = context(module)?;
    let slot = context
        .get_slots_with_token()
        .map_err(token_error("listing slots"))?
        .into_iter()
        .find(|slot| context.get_token_info(*slot).is_ok_and(|info| info.label().trim_end() == token))
        .ok_or_else(|| SignerError::Token(format!("no token labelled {token:?} in {}", module_name(module))))?;
    let session = context.open_ro_session(slot).map_err(token_error("opening a session"))?;
    match session.login(UserType::User, Some(pin)) {
        // The login belongs to the application, not the session: another session of this process
        // may have logged in already.
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => return Err(SignerError::Token(format!("login to token {token:?} failed (wrong PIN?): {e}"))),
    }
    let keys = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(key_label.as_bytes().to_vec())])
        .map_err(token_error("finding the key"))?;
    match keys.as_slice() {
        [key] => Ok(Login { session, key: *key }),
        [] => Err(SignerError::Token(format!("no private key labelled {key_label:?} on token {token:?}"))),
        _ => Err(SignerError::Token(format!("{} private keys labelled {key_label:?} on token {token:?}", keys.len()))),
    }
}

/// Whether a token error means the login or the session is gone (the token was removed and put
/// back, or another application logged out), so that logging in again may cure it.
fn lost_login(error: &cryptoki::error::Error) -> bool {
    matches!(
        error,
        cryptoki::error::Error::Pkcs11(
            RvError::UserNotLoggedIn
                | RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

fn module_name(path: &Path) -> String {
    format!("PKCS #11 module {}", path.display())
}

impl PdfSigner for TokenSigner {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let mut login = self.login.lock().unwrap_or_else(|p| p.into_inner());
        let (mechanism, input, what) = match self.algorithm {
            SignatureAlgorithm::RsaPssSha256 => {
                let params =
                    PkcsPssParams { hash_alg: MechanismType::SHA256, mgf: PkcsMgfType::MGF1_SHA256, s_len: 32.into() };
                (Mechanism::Sha256RsaPkcsPss(params), message.to_vec(), "RSA-PSS signing on the token")
            }
            // Tokens do ECDSA over a digest.
            SignatureAlgorithm::EcdsaP256Sha256 => {
                (Mechanism::Ecdsa, Sha256::digest(message).to_vec(), "ECDSA signing on the token")
            }
        };
        let raw = match login.session.sign(&mechanism, login.key, &input) {
            Err(e) if lost_login(&e) => {
                // Once only: a second failure is the token's answer, not a lost login.
                *login = log_in(&self.module, &self.token, &self.key_label, &self.pin)?;
                login.session.sign(&mechanism, login.key, &input)
            }
            outcome => outcome,
        }
        .map_err(token_error(what))?;
        match self.algorithm {
            SignatureAlgorithm::RsaPssSha256 => Ok(raw),
            SignatureAlgorithm::EcdsaP256Sha256 => {
                // The token returns r‖s; CMS wants the DER form.
                let signature = p256::ecdsa::Signature::from_slice(&raw)
                    .map_err(|e| SignerError::Token(format!("the token returned a malformed ECDSA signature: {e}")))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
        }
    }
}

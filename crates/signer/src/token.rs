//! A [`PdfSigner`] whose key never leaves a PKCS #11 token: an official's USB token, an HSM, or
//! SoftHSM2 in the tests.

use std::fmt;
use std::path::{Path, PathBuf};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

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
    /// The user PIN.
    pub pin: String,
    /// The certificate chain of the key, signer first.
    pub chain: PathBuf,
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The PIN is a secret: it is never formatted.
        f.debug_struct("TokenConfig").field("module", &self.module).field("token", &self.token).field("key", &self.key).field("chain", &self.chain).finish()
    }
}

/// A logged-in session on a token and the handle of the signing key. PKCS #11 sessions are not to
/// be used by two threads at once, hence the mutex.
pub struct TokenSigner {
    session: Mutex<Session>,
    key: ObjectHandle,
    chain: Vec<Certificate>,
    algorithm: SignatureAlgorithm,
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
        f.debug_struct("TokenSigner").field("subject", &subject(&self.chain[0])).field("algorithm", &self.algorithm).finish()
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
        let context = context(&config.module)?;
        let slot = context
            .get_slots_with_token()
            .map_err(token_error("listing slots"))?
            .into_iter()
            .find(|slot| context.get_token_info(*slot).is_ok_and(|info| info.label().trim_end() == config.token))
            .ok_or_else(|| SignerError::Token(format!("no token labelled {:?} in {}", config.token, module_name(&config.module))))?;
        let session = context.open_ro_session(slot).map_err(token_error("opening a session"))?;
        session
            .login(UserType::User, Some(&AuthPin::from(config.pin.clone())))
            .map_err(|e| SignerError::Token(format!("login to token {:?} failed (wrong PIN?): {e}", config.token)))?;
        let keys = session
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(config.key.as_bytes().to_vec())])
            .map_err(token_error("finding the key"))?;
        let key = match keys.as_slice() {
            [key] => *key,
            [] => return Err(SignerError::Token(format!("no private key labelled {:?} on token {:?}", config.key, config.token))),
            _ => return Err(SignerError::Token(format!("{} private keys labelled {:?} on token {:?}", keys.len(), config.key, config.token))),
        };
        Ok(TokenSigner { session: Mutex::new(session), key, chain, algorithm })
    }
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
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        match self.algorithm {
            SignatureAlgorithm::RsaPssSha256 => {
                let params = PkcsPssParams { hash_alg: MechanismType::SHA256, mgf: PkcsMgfType::MGF1_SHA256, s_len: 32.into() };
                session.sign(&Mechanism::Sha256RsaPkcsPss(params), self.key, message).map_err(token_error("RSA-PSS signing on the token"))
            }
            SignatureAlgorithm::EcdsaP256Sha256 => {
                // Tokens do ECDSA over a digest and return r‖s; CMS wants the DER form.
                let digest = Sha256::digest(message);
                let raw = session.sign(&Mechanism::Ecdsa, self.key, &digest).map_err(token_error("ECDSA signing on the token"))?;
                let signature = p256::ecdsa::Signature::from_slice(&raw).map_err(|e| SignerError::Token(format!("the token returned a malformed ECDSA signature: {e}")))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
        }
    }
}

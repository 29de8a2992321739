//! The X.509 signer of the legally recognised PDF signature, behind one trait: a software key
//! (PKCS #8 PEM with its certificate chain, or PKCS #12) here, a PKCS #11 token in `token.rs`.

use std::fmt;
use std::path::Path;

use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePublicKey};
use sha2::Sha256;
use x509_cert::Certificate;
use zeroize::Zeroizing;

use crate::SignerError;
use crate::keys::read_private_file;
use crate::x509::{
    EC_PUBLIC_KEY, RSA_ENCRYPTION, SignatureAlgorithm, certificate_from_der, read_pem_certificates, subject,
};

/// Something that signs with the private key of an X.509 certificate: the agency's or an
/// official's. Implementations keep the key to themselves; callers see only the certificates.
pub trait PdfSigner: Send + Sync {
    /// The signer's certificate first, then the certificates of its issuers (the root may be left out).
    fn chain(&self) -> &[Certificate];

    /// The algorithm [`sign`](Self::sign) uses.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// Signs `message` (the signer hashes it with SHA-256): an RSASSA-PSS signature, or a
    /// DER-encoded ECDSA signature.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;

    /// The signer's certificate.
    fn certificate(&self) -> &Certificate {
        &self.chain()[0]
    }
}

/// The private key of a [`SoftwareSigner`]. The RSA key (modulus, exponents, primes and CRT values)
/// is boxed, so that the enum is the size of a P-256 key.
enum SoftwareKey {
    Rsa(Box<rsa::pss::SigningKey<Sha256>>),
    Ec(p256::ecdsa::SigningKey),
}

/// A signer whose private key is a file: PKCS #8 PEM beside a PEM certificate chain, or a PKCS #12
/// bundle. Key files must be readable by their owner only.
pub struct SoftwareSigner {
    key: SoftwareKey,
    chain: Vec<Certificate>,
    algorithm: SignatureAlgorithm,
}

impl fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("subject", &subject(&self.chain[0]))
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl SoftwareSigner {
    /// A PKCS #8 private key in PEM (`-----BEGIN PRIVATE KEY-----`) and the PEM chain that starts
    /// with its certificate.
    pub fn from_pem_files(key: &Path, chain: &Path) -> Result<Self, SignerError> {
        let pem = read_private_file(key)?;
        let text = std::str::from_utf8(&pem)
            .map_err(|_| SignerError::Malformed { path: key.to_owned(), reason: "not PEM text".into() })?;
        let (label, der) = pkcs8::SecretDocument::from_pem(text).map_err(|e| SignerError::Malformed {
            path: key.to_owned(),
            reason: format!("not a PEM private key: {e}"),
        })?;
        if label != "PRIVATE KEY" {
            return Err(SignerError::Malformed {
                path: key.to_owned(),
                reason: format!("holds a {label}, not an unencrypted PKCS #8 PRIVATE KEY"),
            });
        }
        Self::new(der.as_bytes(), read_pem_certificates(chain)?).map_err(|e| match e {
            SignerError::Certificate(reason) => SignerError::Malformed { path: key.to_owned(), reason },
            e => e,
        })
    }

    /// A PKCS #12 bundle (`.p12`, `.pfx`) holding one private key and its certificate chain.
    pub fn from_pkcs12(path: &Path, password: &str) -> Result<Self, SignerError> {
        let bytes = read_private_file(path)?;
        let malformed = |reason: String| SignerError::Malformed { path: path.to_owned(), reason };
        let store = p12_keystore::KeyStore::from_pkcs12(&bytes, password, p12_keystore::Pkcs12ImportPolicy::Relaxed)
            .map_err(|e| malformed(format!("cannot open the PKCS #12 bundle (wrong password?): {e}")))?;
        let mut chains = store.entries().filter_map(|(_, entry)| match entry {
            p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) => Some(chain),
            _ => None,
        });
        let chain = chains.next().ok_or_else(|| malformed("holds no private key".into()))?;
        if chains.next().is_some() {
            return Err(malformed("holds more than one private key".into()));
        }
        let key = Zeroizing::new(chain.key().as_der().to_vec());
        let certificates = chain
            .certs()
            .iter()
            .map(|c| certificate_from_der(c.as_der(), "PKCS #12 certificate"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| malformed(e.to_string()))?;
        Self::new(&key, certificates).map_err(|e| malformed(e.to_string()))
    }

    /// Builds a signer from PKCS #8 DER and certificates in any order: the one whose public key is
    /// the key's comes first, the rest follow as its issuers.
    fn new(pkcs8_der: &[u8], mut certificates: Vec<Certificate>) -> Result<Self, SignerError> {
        let info = pkcs8::PrivateKeyInfo::from_der(pkcs8_der)
            .map_err(|e| SignerError::Certificate(format!("not a PKCS #8 private key: {e}")))?;
        let (key, public) = match info.algorithm.oid {
            RSA_ENCRYPTION => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|e| SignerError::Certificate(format!("bad RSA private key: {e}")))?;
                let public =
                    key.to_public_key().to_public_key_der().map_err(|e| SignerError::Certificate(e.to_string()))?;
                (SoftwareKey::Rsa(Box::new(rsa::pss::SigningKey::<Sha256>::new(key))), public)
            }
            EC_PUBLIC_KEY => {
                let key = p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8_der).map_err(|e| {
                    SignerError::Certificate(format!("bad EC private key (only P-256 is supported): {e}"))
                })?;
                let public =
                    key.verifying_key().to_public_key_der().map_err(|e| SignerError::Certificate(e.to_string()))?;
                (SoftwareKey::Ec(key), public)
            }
            oid => return Err(SignerError::Certificate(format!("private key algorithm {oid} is not RSA or ECDSA"))),
        };
        let own = certificates
            .iter()
            .position(|c| c.tbs_certificate.subject_public_key_info.to_der().ok().as_deref() == Some(public.as_bytes()))
            .ok_or_else(|| SignerError::Certificate("no certificate in the chain is for this private key".into()))?;
        let certificate = certificates.remove(own);
        certificates.insert(0, certificate);
        let algorithm = SignatureAlgorithm::for_certificate(&certificates[0])?;
        Ok(SoftwareSigner { key, chain: certificates, algorithm })
    }
}

impl PdfSigner for SoftwareSigner {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        use signature::{RandomizedSigner, SignatureEncoding, Signer};
        Ok(match &self.key {
            SoftwareKey::Rsa(key) => key.sign_with_rng(&mut rand_core::OsRng, message).to_vec(),
            SoftwareKey::Ec(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().to_vec()
            }
        })
    }
}

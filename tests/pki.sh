#!/usr/bin/env bash
# Makes the test PKI of the signer tests in directory $1 with the openssl command line, so that the
# certificates the tests sign with and validate against come from a tool sohoa did not write:
#   root.crt            the test CA (RSA 3072), the trust anchor the validators are given
#   rsa.key, rsa.crt    an agency signer with an RSA 2048 key (signs with RSASSA-PSS)
#   ec.key, ec.crt      an agency signer with an ECDSA P-256 key
#   rsa.p12             rsa.key with rsa.crt and root.crt, PKCS#12, password "test-p12"
#   expired.key/.crt    an ECDSA signer whose certificate ran out in 2021
#   other-root.crt, other.key/.crt  a second CA and a signer under it
#   ec-other.crt        a certificate for ec.key's public key from the second CA (the swapped-certificate test)
#   tsa.key, tsa.crt, tsa.cnf       a timestamp authority for `openssl ts -reply`
# With a second argument, a base URL, also the chains of the certificate-check tests (tests/lan_signer.rs):
#   no-sign.key/.crt      a signer whose key usage is keyEncipherment only
#   critical.key/.crt     a signer with a critical extension nobody understands
#   deep.key, deep-chain.pem  a signer under ca2 under ca1, which allows no CA below it (pathlen:0)
#   revoked.key/.crt      a signer that root has revoked
#   dp.key/.crt, dp-revoked.key/.crt  signers naming URL/root.crl as CRL distribution point; the
#                         second is revoked
#   ocsp-good.key/.crt, ocsp-revoked.key/.crt  signers naming URL/ocsp as OCSP responder (root's
#                         database answers for it, `openssl ocsp -index`); the second is revoked
#   root.crl, root.crl.der  root's CRL, PEM and DER, listing revoked and dp-revoked
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"

ca() { # name subject keyspec
  openssl req -x509 -newkey "$3" -nodes -keyout "$1.key" -out "$1.crt" -days 3650 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  mkdir -p "$1.db"
  : >"$1.db/index.txt"
  echo 1000 >"$1.db/serial"
  cat >"$1.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $dir/$1.db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $dir/$1.crt
private_key = $dir/$1.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
organizationName = optional
countryName = optional
[ signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
}

issue() { # ca name subject keyspec extensions [startdate enddate]
  openssl genpkey $4 -out "$2.key" 2>/dev/null
  openssl req -new -key "$2.key" -subj "$3" -out "$2.csr" 2>/dev/null
  local dates=(-days 1825)
  [ $# -ge 7 ] && dates=(-startdate "$6" -enddate "$7")
  openssl ca -batch -config "$1.cnf" -extensions "$5" "${dates[@]}" -in "$2.csr" -out "$2.crt" -notext 2>/dev/null
  chmod 600 "$2.key"
}

ca root "/C=VN/O=So hoa Test/CN=Sohoa Test Root CA" rsa:3072
ca other-root "/C=VN/O=Elsewhere/CN=Unrelated Test CA" ec:<(openssl ecparam -name prime256v1)
issue root rsa "/C=VN/O=UBND Phuong Test/CN=UBND Phuong Test (RSA)" "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" signer
issue root ec "/C=VN/O=UBND Phuong Test/CN=UBND Phuong Test (ECDSA)" "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" signer
issue root expired "/C=VN/O=UBND Phuong Test/CN=Expired Signer" "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" signer 20200101000000Z 20210101000000Z
issue other-root other "/C=VN/O=Elsewhere/CN=Unrelated Signer" "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" signer
openssl req -new -key ec.key -subj "/C=VN/O=UBND Phuong Test/CN=UBND Phuong Test (ECDSA)" -out ec-other.csr 2>/dev/null
openssl ca -batch -config other-root.cnf -extensions signer -days 1825 -in ec-other.csr -out ec-other.crt -notext 2>/dev/null
issue root tsa "/C=VN/O=So hoa Test/CN=Sohoa Test TSA" "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" tsa
openssl pkcs12 -export -inkey rsa.key -in rsa.crt -certfile root.crt -name agency -passout pass:test-p12 -out rsa.p12
echo 01 >tsaserial
cat >tsa.cnf <<CNF
[ tsa ]
default_tsa = this
[ this ]
serial = $dir/tsaserial
signer_cert = $dir/tsa.crt
certs = $dir/root.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF

[ $# -ge 2 ] || exit 0
cat >>root.cnf <<CNF
[ no_sign ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
[ unknown_critical ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
1.3.6.1.4.1.99999.7 = critical,ASN1:UTF8String:must be understood
[ distribution_point ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
crlDistributionPoints = URI:$2/root.crl
[ ocsp_responder ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
authorityInfoAccess = OCSP;URI:$2/ocsp
[ sub_ca_pathlen_0 ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
[ crl ]
authorityKeyIdentifier = keyid:always
CNF
ec="-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
issue root no-sign "/C=VN/O=UBND Phuong Test/CN=No Signing Usage" "$ec" no_sign
issue root critical "/C=VN/O=UBND Phuong Test/CN=Unknown Critical Extension" "$ec" unknown_critical
issue root revoked "/C=VN/O=UBND Phuong Test/CN=Revoked Signer" "$ec" signer
issue root dp "/C=VN/O=UBND Phuong Test/CN=Signer With CRL Distribution Point" "$ec" distribution_point
issue root dp-revoked "/C=VN/O=UBND Phuong Test/CN=Revoked Signer With CRL Distribution Point" "$ec" distribution_point
issue root ocsp-good "/C=VN/O=UBND Phuong Test/CN=Signer With OCSP Responder" "$ec" ocsp_responder
issue root ocsp-revoked "/C=VN/O=UBND Phuong Test/CN=Revoked Signer With OCSP Responder" "$ec" ocsp_responder
# ca1 may have no CA below it, yet ca2 is; each is made as a CA by `ca`, then certified by its parent.
ca ca1 "/C=VN/O=So hoa Test/CN=Sub-CA Allowing No Sub-CA" ec:<(openssl ecparam -name prime256v1)
ca ca2 "/C=VN/O=So hoa Test/CN=Sub-CA Below The Limit" ec:<(openssl ecparam -name prime256v1)
printf '[ sub_ca ]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n' >>ca1.cnf
openssl req -new -key ca1.key -subj "/C=VN/O=So hoa Test/CN=Sub-CA Allowing No Sub-CA" -out ca1.csr 2>/dev/null
openssl ca -batch -config root.cnf -extensions sub_ca_pathlen_0 -days 1825 -in ca1.csr -out ca1.crt -notext 2>/dev/null
openssl req -new -key ca2.key -subj "/C=VN/O=So hoa Test/CN=Sub-CA Below The Limit" -out ca2.csr 2>/dev/null
openssl ca -batch -config ca1.cnf -extensions sub_ca -days 1825 -in ca2.csr -out ca2.crt -notext 2>/dev/null
issue ca2 deep "/C=VN/O=UBND Phuong Test/CN=Signer Too Deep" "$ec" signer
cat deep.crt ca2.crt ca1.crt >deep-chain.pem
openssl ca -config root.cnf -revoke revoked.crt 2>/dev/null
openssl ca -config root.cnf -revoke dp-revoked.crt 2>/dev/null
openssl ca -config root.cnf -revoke ocsp-revoked.crt 2>/dev/null
openssl ca -config root.cnf -gencrl -crldays 30 -crlexts crl -out root.crl 2>/dev/null
openssl crl -in root.crl -outform DER -out root.crl.der

#!/bin/sh
# Makes the TLS test certificates in directory $1 with the openssl CLI:
#   ca.crt/.key         the test CA
#   server.crt/.key     for 127.0.0.1, ::1 and localhost (IP and DNS SANs), signed by the CA
#   expired.crt/.key    the same names, signed by the CA, validity entirely in the past
#   other.crt/.key      signed by the CA for another host only (wrong.example)
#   self.crt/.key       self-signed for 127.0.0.1/localhost, not trusted
#   ca2.crt/.key        another CA, trusted by nobody in the tests
#   foreign.crt/.key    for 127.0.0.1, ::1 and localhost, signed by ca2: right names, wrong CA
#   client.crt/.key     client certificate signed by the CA
set -eu
d=$1
mkdir -p "$d"
cd "$d"
q() { "$@" >/dev/null 2>&1 || { echo "make_certs: failed: $*" >&2; exit 1; }; }
key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }

san_local="subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"

key ca
q openssl req -x509 -new -key ca.key -days 30 -subj "/CN=kmqtt test CA" -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

key ca2
q openssl req -x509 -new -key ca2.key -days 30 -subj "/CN=kmqtt other CA" -out ca2.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# sign NAME SUBJECT SAN [CA]: a CSR for NAME.key, signed by CA (default ca) for 30 days.
sign() {
    key "$1"
    q openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf '%s\nbasicConstraints=CA:FALSE\n' "$3" >"$1.ext"
    q openssl x509 -req -in "$1.csr" -CA "${4:-ca}.crt" -CAkey "${4:-ca}.key" -CAcreateserial \
        -days 30 -extfile "$1.ext" -out "$1.crt"
}
sign server "/CN=localhost" "$san_local"
sign other "/CN=wrong.example" "subjectAltName=DNS:wrong.example"
sign client "/CN=kmqtt-test-client" "extendedKeyUsage=clientAuth"
sign foreign "/CN=localhost" "$san_local" ca2

# Expired: openssl x509 -req only takes a positive -days, so "openssl ca"
# with explicit -startdate/-enddate (OpenSSL 3.0 accepts dates in the past).
key expired
q openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
mkdir -p ca_db
: >ca_db/index.txt
echo 01 >ca_db/serial
cat >ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca_db
database = ca_db/index.txt
new_certs_dir = ca_db
serial = ca_db/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = ext
[any]
commonName = supplied
[ext]
basicConstraints = CA:FALSE
$san_local
CNF
q openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr -out expired.crt \
    -startdate 20200101000000Z -enddate 20200201000000Z -notext

key self
q openssl req -x509 -new -key self.key -days 30 -subj "/CN=localhost" -out self.crt \
    -addext "$san_local"
chmod 644 ./*.key

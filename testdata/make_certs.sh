#!/bin/sh
# Regenerates the test certificates in this directory (see README.md).
# Needs only openssl. Everything is valid for 100 years (36500 days).
set -eu
cd "$(dirname "$0")"
DAYS=36500

# 1. The test CA, which the clients trust.
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$DAYS" \
  -keyout ca.key -out ca.pem -subj "/CN=socket-oneline test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

# 2. The server key and certificate for localhost / 127.0.0.1, signed by the test CA.
openssl req -newkey rsa:2048 -sha256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=localhost"
cat > server.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -days "$DAYS" -sha256 -extfile server.ext -out server.pem

# 3. An unrelated CA: a client trusting only it must reject the server.
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$DAYS" \
  -keyout other_ca.key -out other_ca.pem -subj "/CN=socket-oneline unrelated test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

# The CA keys are not needed by the tests; drop them and the intermediate files.
rm -f ca.key other_ca.key server.csr server.ext ca.srl

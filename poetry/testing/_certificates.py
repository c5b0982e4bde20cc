"""
L{CertificateAuthority}: throw-away certificates for TLS tests, made when
the test runs (no private key is ever written to disk or committed).

Keys are Ed25519: making one takes well under a millisecond, and an Ed25519
signature always has the same length; serial numbers all have one length
and the validity is fixed.  So a TLS handshake writes the same number of
bytes every time, whatever the keys -- the trace of a TLS connection
(without contents checksums: TLS bytes are random) is reproducible from the
seed like any other.

Needs the C{tls} extra (pyOpenSSL, and so C{cryptography}); nothing is
imported before an authority is made.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
from typing import TYPE_CHECKING, Any

from poetry.testing._tls import _twisted_tls

if TYPE_CHECKING:
    from twisted.internet.ssl import Certificate, CertificateOptions, PrivateCertificate
    from twisted.web.client import BrowserLikePolicyForHTTPS

__all__ = ["CertificateAuthority"]

# Fixed validity, so that certificates do not depend on when they were made
# (OpenSSL checks them against the wall clock: these hold from 2000 to 2100).
_NOT_BEFORE = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
_NOT_AFTER = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)

# Serial numbers: unique in this process, and all of one length, so that a
# certificate's size (and so a handshake's) never depends on chance.
_SERIALS = itertools.count((1 << 62) + 1)


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _general_name(name: str) -> Any:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _pem_certificate(certificate: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(certificate.public_bytes(serialization.Encoding.PEM))


class CertificateAuthority:
    """
    A certificate authority made for a test run: a fresh key and a
    self-signed CA certificate, which issues server (and client)
    certificates for the names a test uses.  Clients trust it through
    L{client_options} or L{https_policy}; a second authority is a CA they do
    not trust.

    Everything is Twisted's own TLS configuration
    (L{twisted.internet.ssl}), usable on a L{MemoryNetwork} and on the real
    reactor alike.  Issued certificates are cached per authority: make one
    authority per test module or run and reuse it.

    @ivar name: the CA's common name.
    @raise ImportError: if pyOpenSSL is missing (naming the extra).
    """

    def __init__(self, name: str = "poetry.testing CA") -> None:
        _twisted_tls()
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ed25519

        self.name = name
        self._key = ed25519.Ed25519PrivateKey.generate()
        subject = _name(name)
        self._x509 = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(next(_SERIALS))
            .not_valid_before(_NOT_BEFORE)
            .not_valid_after(_NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            )
            .sign(self._key, None)
        )
        self._issued: dict[tuple[str, ...], PrivateCertificate] = {}

    def __repr__(self) -> str:
        return f"<CertificateAuthority {self.name!r}>"

    @property
    def certificate(self) -> Certificate:
        """
        The CA certificate (a trust root: C{optionsForClientTLS(host,
        trustRoot=ca.certificate)}).
        """
        from twisted.internet.ssl import Certificate

        return Certificate.loadPEM(_pem_certificate(self._x509))

    def issue(self, *names: str) -> PrivateCertificate:
        """
        A certificate with its private key, signed by this authority, for
        C{names} (host names and IP addresses, the subject alternative names
        clients check; the first is also the common name).

        @raise ValueError: if no name is given.
        """
        if not names:
            raise ValueError("issue() needs at least one host name or address")
        key = tuple(names)
        cached = self._issued.get(key)
        if cached is not None:
            return cached
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ed25519
        from cryptography.x509.oid import ExtendedKeyUsageOID
        from twisted.internet.ssl import PrivateCertificate

        private = ed25519.Ed25519PrivateKey.generate()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self._x509.subject)
            .public_key(private.public_key())
            .serial_number(next(_SERIALS))
            .not_valid_before(_NOT_BEFORE)
            .not_valid_after(_NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in names]), False
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                False,
            )
            .sign(self._key, None)
        )
        issued: PrivateCertificate = PrivateCertificate.loadPEM(
            _pem_certificate(certificate) + _pem_key(private)
        )
        self._issued[key] = issued
        return issued

    def server_options(self, *names: str) -> CertificateOptions:
        """
        A server's TLS options (for C{listenSSL}, C{SSL4ServerEndpoint},
        C{startTLS}): a certificate for C{names} (default C{"localhost"} and
        C{"127.0.0.1"}) issued by this authority.
        """
        issued = self.issue(*(names or ("localhost", "127.0.0.1")))
        options: CertificateOptions = issued.options()
        return options

    def client_options(self, hostname: str = "localhost") -> Any:
        """
        A client's TLS options (for C{connectSSL}, C{SSL4ClientEndpoint},
        C{wrapClientTLS}, C{startTLS}) that trust this authority only and
        check that the server's certificate is for C{hostname}:
        C{optionsForClientTLS(hostname, trustRoot=self.certificate)}.
        """
        from twisted.internet.ssl import optionsForClientTLS

        return optionsForClientTLS(hostname, trustRoot=self.certificate)

    def https_policy(self) -> BrowserLikePolicyForHTTPS:
        """
        An C{IPolicyForHTTPS} trusting this authority only, for
        C{Agent(reactor, contextFactory=ca.https_policy())}.
        """
        from twisted.web.client import BrowserLikePolicyForHTTPS

        return BrowserLikePolicyForHTTPS(trustRoot=self.certificate)

"""TokenVerifier: every way a CDS client token can be wrong is refused, with its own reason."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey, OKPKey, RSAKey

from auth.conftest import MakeVerifier
from auth.jwks_server import JwksServer
from auth.tokens import AUDIENCE, ISSUER, NOW, claims, jwks, sign, unsigned
from stratcare.auth import IssuerConfig, TokenVerifier, Unauthorized

NOW_TS = int(NOW.timestamp())


class TestAcceptedTokens:
    async def test_es384(self, verifier: TokenVerifier, es_key: ECKey) -> None:
        token = sign(es_key, "ES384", claims(sub="client-7", tenant="clinic-a"))
        client = await verifier.verify(token, AUDIENCE)
        assert (client.issuer, client.subject, client.tenant) == (ISSUER, "client-7", "clinic-a")

    async def test_rs384(self, verifier: TokenVerifier, rs_key: RSAKey) -> None:
        payload = claims()
        client = await verifier.verify(sign(rs_key, "RS384", payload), AUDIENCE)
        assert client.jti == payload["jti"]
        assert client.subject is None

    async def test_ps256_with_the_rsa_key(self, verifier: TokenVerifier, rs_key: RSAKey) -> None:
        assert (await verifier.verify(sign(rs_key, "PS256", claims()), AUDIENCE)).issuer == ISSUER

    @pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
    async def test_edwards_curve(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, alg: str
    ) -> None:
        key = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/ed.json", jwks(key))))
        assert (await verifier.verify(sign(key, alg, claims()), AUDIENCE)).issuer == ISSUER

    async def test_audience_list_containing_the_endpoint(
        self, verifier: TokenVerifier, es_key: ECKey
    ) -> None:
        token = sign(es_key, "ES384", claims(aud=["https://other.example", AUDIENCE]))
        assert (await verifier.verify(token, AUDIENCE)).issuer == ISSUER

    async def test_expired_within_leeway(self, verifier: TokenVerifier, es_key: ECKey) -> None:
        token = sign(es_key, "ES384", claims(iat=NOW_TS - 200, exp=NOW_TS - 50))
        assert (await verifier.verify(token, AUDIENCE)).issuer == ISSUER

    async def test_keys_from_a_file(self, make_verifier: MakeVerifier, es_key: ECKey, tmp_path: Path) -> None:
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps(jwks(es_key)))
        verifier = make_verifier(IssuerConfig(jwks_file=path))
        assert (await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)).issuer == ISSUER


class TestSignature:
    async def test_forged_with_another_key_under_the_same_kid(
        self, verifier: TokenVerifier, es_key: ECKey
    ) -> None:
        forger = ECKey.generate_key("P-384", parameters={"kid": str(es_key.kid)})
        with pytest.raises(Unauthorized, match="signature does not verify"):
            await verifier.verify(sign(forger, "ES384", claims()), AUDIENCE)

    async def test_tampered_payload(self, verifier: TokenVerifier, es_key: ECKey) -> None:
        header, _, signature = sign(es_key, "ES384", claims()).split(".")
        other_payload = sign(es_key, "ES384", claims(sub="admin")).split(".")[1]
        with pytest.raises(Unauthorized, match="signature does not verify"):
            await verifier.verify(f"{header}.{other_payload}.{signature}", AUDIENCE)

    async def test_alg_none(self, verifier: TokenVerifier, es_key: ECKey) -> None:
        token = unsigned({"alg": "none", "typ": "JWT", "kid": es_key.kid}, claims())
        with pytest.raises(Unauthorized, match="alg not accepted"):
            await verifier.verify(token, AUDIENCE)

    async def test_hs256_keyed_with_the_public_key_pem(
        self, verifier: TokenVerifier, rs_key: RSAKey, jwks_server: JwksServer
    ) -> None:
        pem = rs_key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = {"alg": "HS256", "typ": "JWT", "kid": rs_key.kid}
        signing_input = unsigned(header, claims()).rsplit(".", 1)[0]
        mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        token = unsigned(header, claims()).rsplit(".", 1)[0] + "." + unsigned({}, {}, mac).split(".")[2]
        with pytest.raises(Unauthorized, match="alg not accepted"):
            await verifier.verify(token, AUDIENCE)
        assert jwks_server.hits["/jwks.json"] == 0

    async def test_alg_differs_from_the_keys_declared_alg(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, rs_key: RSAKey
    ) -> None:
        published = {**rs_key.as_dict(private=False), "alg": "RS384"}
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/alg.json", {"keys": [published]})))
        assert (await verifier.verify(sign(rs_key, "RS384", claims()), AUDIENCE)).issuer == ISSUER
        with pytest.raises(Unauthorized, match="key is not for this alg"):
            await verifier.verify(sign(rs_key, "RS256", claims()), AUDIENCE)

    @pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "é.é.é", "x" * 20_000])
    async def test_not_a_jws(self, verifier: TokenVerifier, token: str) -> None:
        with pytest.raises(Unauthorized):
            await verifier.verify(token, AUDIENCE)


class TestHeader:
    async def test_kid_missing(self, verifier: TokenVerifier, es_key: ECKey) -> None:
        with pytest.raises(Unauthorized, match="kid missing"):
            await verifier.verify(sign(es_key, "ES384", claims(), kid=None), AUDIENCE)

    @pytest.mark.parametrize("typ", ["at+jwt", "JOSE", None])
    async def test_typ_not_jwt(self, verifier: TokenVerifier, es_key: ECKey, typ: str | None) -> None:
        with pytest.raises(Unauthorized, match="typ is not JWT"):
            await verifier.verify(sign(es_key, "ES384", claims(), typ=typ), AUDIENCE)

    async def test_unknown_critical_header(self, verifier: TokenVerifier, es_key: ECKey) -> None:
        token = sign(es_key, "ES384", claims(), crit=["urn:example:policy"], **{"urn:example:policy": 1})
        with pytest.raises(Unauthorized, match="signature does not verify"):
            await verifier.verify(token, AUDIENCE)


class TestClaims:
    @pytest.mark.parametrize("name", ["iss", "aud", "exp", "iat", "jti"])
    async def test_required_claim_missing(self, verifier: TokenVerifier, es_key: ECKey, name: str) -> None:
        with pytest.raises(Unauthorized, match=f"missing claim {name}"):
            await verifier.verify(sign(es_key, "ES384", claims(**{name: None})), AUDIENCE)

    @pytest.mark.parametrize(
        "aud",
        [
            "http://stratcare.test/cds-services/other-service",
            AUDIENCE + "?tenant=a",
            AUDIENCE + "/",
            AUDIENCE.upper(),
            ["https://other.example"],
        ],
    )
    async def test_wrong_audience(self, verifier: TokenVerifier, es_key: ECKey, aud: object) -> None:
        with pytest.raises(Unauthorized, match="aud is not this endpoint"):
            await verifier.verify(sign(es_key, "ES384", claims(aud=aud)), AUDIENCE)

    @pytest.mark.parametrize(
        ("overrides", "reason"),
        [
            ({"iat": NOW_TS - 400, "exp": NOW_TS - 61}, "token expired"),
            ({"iat": NOW_TS + 61, "exp": NOW_TS + 200}, "iat is in the future"),
            ({"nbf": NOW_TS + 120}, "not yet valid"),
            ({"iat": NOW_TS, "exp": NOW_TS + 301}, "lifetime too long"),
            ({"iat": NOW_TS - 100, "exp": NOW_TS + 250}, "lifetime too long"),
            ({"iat": NOW_TS, "exp": NOW_TS}, "exp is not after iat"),
            ({"exp": "soon"}, "exp is not a number"),
            ({"exp": True}, "exp is not a number"),
            ({"iat": 10**400}, "iat is not a finite number"),
            ({"aud": 7}, "neither a string nor a list"),
            ({"jti": ""}, "jti is not a usable string"),
            ({"jti": "j" * 256}, "jti is not a usable string"),
            ({"tenant": 5}, "tenant is not a string"),
        ],
    )
    async def test_bad_claim(
        self, verifier: TokenVerifier, es_key: ECKey, overrides: dict[str, object], reason: str
    ) -> None:
        with pytest.raises(Unauthorized, match=reason):
            await verifier.verify(sign(es_key, "ES384", claims(**overrides)), AUDIENCE)

    async def test_longer_lifetime_when_configured(
        self, make_verifier: MakeVerifier, issuer_config: IssuerConfig, es_key: ECKey
    ) -> None:
        verifier = make_verifier(issuer_config, max_token_lifetime_seconds=900)
        token = sign(es_key, "ES384", claims(exp=NOW_TS + 600))
        assert (await verifier.verify(token, AUDIENCE)).issuer == ISSUER

    async def test_untrusted_issuer(
        self, verifier: TokenVerifier, es_key: ECKey, jwks_server: JwksServer
    ) -> None:
        with pytest.raises(Unauthorized, match="issuer is not trusted"):
            await verifier.verify(sign(es_key, "ES384", claims(iss="https://evil.example")), AUDIENCE)
        assert jwks_server.hits["/jwks.json"] == 0


class TestReplay:
    async def test_a_token_is_accepted_once(self, verifier: TokenVerifier, es_key: ECKey) -> None:
        token = sign(es_key, "ES384", claims())
        await verifier.verify(token, AUDIENCE)
        with pytest.raises(Unauthorized, match="jti already used"):
            await verifier.verify(token, AUDIENCE)

    async def test_the_jti_is_bound_to_its_token_not_to_one_use_of_a_key(
        self, verifier: TokenVerifier, es_key: ECKey
    ) -> None:
        payload = claims()
        await verifier.verify(sign(es_key, "ES384", payload), AUDIENCE)
        with pytest.raises(Unauthorized, match="jti already used"):
            await verifier.verify(sign(es_key, "ES384", {**payload, "sub": "again"}), AUDIENCE)

    async def test_a_forged_token_does_not_use_up_the_jti(
        self, verifier: TokenVerifier, es_key: ECKey
    ) -> None:
        payload = claims()
        forger = ECKey.generate_key("P-384", parameters={"kid": str(es_key.kid)})
        with pytest.raises(Unauthorized, match="signature"):
            await verifier.verify(sign(forger, "ES384", payload), AUDIENCE)
        assert (await verifier.verify(sign(es_key, "ES384", payload), AUDIENCE)).jti == payload["jti"]

"""Where keys come from: rotation, refetch limits, the jku allowlist, unreachable key sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from auth.conftest import MakeVerifier
from auth.jwks_server import JwksServer
from auth.tokens import AUDIENCE, ISSUER, FakeMonotonic, claims, jwks, sign
from stratcare.auth import IssuerConfig, Unauthorized
from stratcare.auth.keys import parse_jwks


@pytest.fixture
def rotated_key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": "es-2"})


class TestRotation:
    async def test_unknown_kid_refetches_and_accepts_the_new_key(
        self,
        make_verifier: MakeVerifier,
        jwks_server: JwksServer,
        monotonic: FakeMonotonic,
        es_key: ECKey,
        rotated_key: ECKey,
    ) -> None:
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/jwks.json", jwks(es_key))))
        await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)
        jwks_server.serve("/jwks.json", jwks(rotated_key))
        monotonic.now += 31
        client = await verifier.verify(sign(rotated_key, "ES384", claims()), AUDIENCE)
        assert client.issuer == ISSUER
        assert jwks_server.hits["/jwks.json"] == 2

    async def test_cached_keys_are_not_refetched_for_known_kids(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, monotonic: FakeMonotonic, es_key: ECKey
    ) -> None:
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/jwks.json", jwks(es_key))))
        for _ in range(3):
            await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)
            monotonic.now += 100
        assert jwks_server.hits["/jwks.json"] == 1

    async def test_a_stale_key_set_is_refetched(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, monotonic: FakeMonotonic, es_key: ECKey
    ) -> None:
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/jwks.json", jwks(es_key))))
        await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)
        jwks_server.serve("/jwks.json", {"keys": []})
        monotonic.now += 601
        with pytest.raises(Unauthorized, match="no key with that kid"):
            await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)
        assert jwks_server.hits["/jwks.json"] == 2

    async def test_unknown_kid_refetches_at_most_once_per_interval(
        self,
        make_verifier: MakeVerifier,
        jwks_server: JwksServer,
        monotonic: FakeMonotonic,
        es_key: ECKey,
        rotated_key: ECKey,
    ) -> None:
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/jwks.json", jwks(es_key))))
        await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)
        monotonic.now += 31
        for _ in range(5):
            with pytest.raises(Unauthorized, match="no key with that kid"):
                await verifier.verify(sign(rotated_key, "ES384", claims()), AUDIENCE)
            monotonic.now += 5
        assert jwks_server.hits["/jwks.json"] == 2

    async def test_unknown_kid_soon_after_a_fetch_does_not_refetch(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey, rotated_key: ECKey
    ) -> None:
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/jwks.json", jwks(es_key))))
        await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)
        jwks_server.serve("/jwks.json", jwks(es_key, rotated_key))
        with pytest.raises(Unauthorized, match="no key with that kid"):
            await verifier.verify(sign(rotated_key, "ES384", claims()), AUDIENCE)
        assert jwks_server.hits["/jwks.json"] == 1

    async def test_a_failed_refetch_keeps_the_previous_keys(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, monotonic: FakeMonotonic, es_key: ECKey
    ) -> None:
        verifier = make_verifier(IssuerConfig(jwks_url=jwks_server.serve("/jwks.json", jwks(es_key))))
        await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)
        jwks_server.serve("/jwks.json", {"error": "down"}, status=503)
        monotonic.now += 601
        assert (await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)).issuer == ISSUER
        assert jwks_server.hits["/jwks.json"] == 2


class TestKeySetUnavailable:
    @pytest.mark.parametrize("status", [404, 500])
    async def test_error_status(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey, status: int
    ) -> None:
        url = jwks_server.serve("/jwks.json", jwks(es_key), status=status)
        with pytest.raises(Unauthorized, match="no key with that kid"):
            await make_verifier(IssuerConfig(jwks_url=url)).verify(sign(es_key, "ES384", claims()), AUDIENCE)

    async def test_unreachable(self, make_verifier: MakeVerifier, es_key: ECKey) -> None:
        verifier = make_verifier(IssuerConfig(jwks_url="http://127.0.0.1:9/jwks.json"))
        with pytest.raises(Unauthorized, match="no key with that kid"):
            await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)

    async def test_missing_file(self, make_verifier: MakeVerifier, es_key: ECKey, tmp_path: Path) -> None:
        verifier = make_verifier(IssuerConfig(jwks_file=tmp_path / "absent.json"))
        with pytest.raises(Unauthorized, match="no key with that kid"):
            await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)


class TestJku:
    async def test_allowlisted_jku_is_the_key_source(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey
    ) -> None:
        jku = jwks_server.serve("/.well-known/jwks.json", jwks(es_key))
        verifier = make_verifier(IssuerConfig(jku_allowlist=(jku,)))
        assert (await verifier.verify(sign(es_key, "ES384", claims(), jku=jku), AUDIENCE)).issuer == ISSUER
        assert jwks_server.hits["/.well-known/jwks.json"] == 1

    async def test_jku_off_the_allowlist_is_never_fetched(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey, rotated_key: ECKey
    ) -> None:
        allowed = jwks_server.serve("/.well-known/jwks.json", jwks(es_key))
        evil = jwks_server.serve("/evil.json", jwks(rotated_key))
        verifier = make_verifier(IssuerConfig(jwks_url=allowed, jku_allowlist=(allowed,)))
        with pytest.raises(Unauthorized, match="no key with that kid"):
            await verifier.verify(sign(rotated_key, "ES384", claims(), jku=evil), AUDIENCE)
        assert jwks_server.hits["/evil.json"] == 0

    async def test_jku_off_the_allowlist_with_no_configured_keys_is_refused(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey
    ) -> None:
        allowed = jwks_server.serve("/.well-known/jwks.json", jwks(es_key))
        evil = jwks_server.serve("/evil.json", jwks(es_key))
        verifier = make_verifier(IssuerConfig(jku_allowlist=(allowed,)))
        with pytest.raises(Unauthorized, match="jku not on the issuer's allowlist"):
            await verifier.verify(sign(es_key, "ES384", claims(), jku=evil), AUDIENCE)
        assert jwks_server.hits["/evil.json"] == 0

    async def test_a_token_verified_by_the_configured_keys_ignores_its_jku(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey
    ) -> None:
        configured = jwks_server.serve("/configured.json", jwks(es_key))
        evil = jwks_server.serve("/evil.json", jwks(es_key))
        verifier = make_verifier(IssuerConfig(jwks_url=configured))
        assert (await verifier.verify(sign(es_key, "ES384", claims(), jku=evil), AUDIENCE)).issuer == ISSUER
        assert jwks_server.hits["/evil.json"] == 0

    async def test_a_jku_naming_the_configured_jwks_url_is_accepted(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey
    ) -> None:
        """The CDS Hooks sandbox sends its own key-set URL as jku; configuring it as jwks_url is enough."""
        url = jwks_server.serve("/.well-known/jwks.json", jwks(es_key))
        verifier = make_verifier(IssuerConfig(jwks_url=url))
        assert (await verifier.verify(sign(es_key, "ES384", claims(), jku=url), AUDIENCE)).issuer == ISSUER

    async def test_configured_keys_come_before_an_allowlisted_jku(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey, tmp_path: Path
    ) -> None:
        """The public sandbox's shape: every token names a jku; the issuer's keys are held in a file."""
        jku = jwks_server.serve("/.well-known/jwks.json", jwks(es_key))
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps(jwks(es_key)))
        verifier = make_verifier(IssuerConfig(jwks_file=path, jku_allowlist=(jku,)))
        assert (await verifier.verify(sign(es_key, "ES384", claims(), jku=jku), AUDIENCE)).issuer == ISSUER
        assert jwks_server.hits["/.well-known/jwks.json"] == 0

    async def test_an_allowlisted_jku_is_used_when_the_configured_keys_do_not_verify(
        self,
        make_verifier: MakeVerifier,
        jwks_server: JwksServer,
        es_key: ECKey,
        rotated_key: ECKey,
        tmp_path: Path,
    ) -> None:
        jku = jwks_server.serve("/.well-known/jwks.json", jwks(rotated_key))
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps(jwks(es_key)))
        verifier = make_verifier(IssuerConfig(jwks_file=path, jku_allowlist=(jku,)))
        token = sign(rotated_key, "ES384", claims(), jku=jku)
        assert (await verifier.verify(token, AUDIENCE)).issuer == ISSUER
        assert jwks_server.hits["/.well-known/jwks.json"] == 1

    async def test_a_key_under_the_same_kid_at_the_jku_is_tried_after_the_configured_one(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey, tmp_path: Path
    ) -> None:
        """Configured key and jku key share a kid; only the jku's verifies, so the jku is consulted."""
        newer = ECKey.generate_key("P-384", parameters={"kid": str(es_key.kid)})
        jku = jwks_server.serve("/.well-known/jwks.json", jwks(newer))
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps(jwks(es_key)))
        verifier = make_verifier(IssuerConfig(jwks_file=path, jku_allowlist=(jku,)))
        assert (await verifier.verify(sign(newer, "ES384", claims(), jku=jku), AUDIENCE)).issuer == ISSUER
        forger = ECKey.generate_key("P-384", parameters={"kid": str(es_key.kid)})
        with pytest.raises(Unauthorized, match="signature does not verify"):
            await verifier.verify(sign(forger, "ES384", claims(), jku=jku), AUDIENCE)

    @pytest.mark.parametrize("suffix", ["/", "?x=1", "#k"])
    async def test_jku_must_match_exactly(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey, suffix: str
    ) -> None:
        jku = jwks_server.serve("/jwks.json", jwks(es_key))
        verifier = make_verifier(IssuerConfig(jku_allowlist=(jku,)))
        with pytest.raises(Unauthorized, match="jku not on the issuer's allowlist"):
            await verifier.verify(sign(es_key, "ES384", claims(), jku=jku + suffix), AUDIENCE)

    async def test_issuer_known_only_by_jku_needs_one(
        self, make_verifier: MakeVerifier, jwks_server: JwksServer, es_key: ECKey
    ) -> None:
        verifier = make_verifier(IssuerConfig(jku_allowlist=(jwks_server.serve("/j.json", jwks(es_key)),)))
        with pytest.raises(Unauthorized, match="only known through jku"):
            await verifier.verify(sign(es_key, "ES384", claims()), AUDIENCE)


class TestParseJwks:
    def test_skips_private_symmetric_unnamed_and_encryption_keys(self, es_key: ECKey) -> None:
        public = es_key.as_dict(private=False)
        document = {
            "keys": [
                {**es_key.as_dict(private=True), "kid": "private"},
                {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
                {key: value for key, value in public.items() if key != "kid"},
                {**public, "kid": "enc", "use": "enc"},
                {"kty": "EC", "kid": "broken", "crv": "P-384", "x": "AA", "y": "AA"},
                "not a key",
                public,
            ]
        }
        assert list(parse_jwks(json.dumps(document).encode())) == [("es-1", "EC")]

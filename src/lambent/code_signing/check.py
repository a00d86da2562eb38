"""The signature check on CreateFunction and UpdateFunctionCode of a function with a code
signing config: Enforce refuses what is unsigned or not signed by an allowed publisher,
Warn accepts it and logs it; a package that is not what was signed is refused either way
(AWS's integrity check)."""

from __future__ import annotations

import logging
import zipfile

from lambent.blocking import BlockingWork
from lambent.code_signing import signatures
from lambent.code_signing.configs import CodeSigningConfigs, not_attachable
from lambent.code_signing.profiles import SigningProfiles
from lambent.code_signing.signatures import Verdict
from lambent.errors import CodeVerificationFailed, InvalidCodeSignature
from lambent.functions.lookup import Scope
from lambent.oplog import event
from lambent.store.interface import Doc

log = logging.getLogger(__name__)


def verification_failed(function_arn: str) -> CodeVerificationFailed:
    return CodeVerificationFailed(
        "Lambda cannot deploy the function. The function or layer might be signed using a "
        "signature that the client is not configured to accept. Check the provided "
        f"signature for {function_arn}."
    )


def integrity_failed(function_arn: str) -> InvalidCodeSignature:
    return InvalidCodeSignature(
        "Lambda cannot deploy the function. The code signature failed the integrity check "
        f"for {function_arn}: the package is not what was signed."
    )


class CodeCheck:
    def __init__(
        self, configs: CodeSigningConfigs, profiles: SigningProfiles, work: BlockingWork
    ) -> None:
        self.configs = configs
        self._profiles = profiles
        self._work = work

    async def config(self, scope: Scope, arn: str) -> Doc:
        """The config a function is to use; CodeSigningConfigNotFoundException if none."""
        doc = await self.configs.find(scope, arn)
        if doc is None:
            raise not_attachable(arn)
        return doc

    async def check(
        self, scope: Scope, config: Doc, data: bytes, function_arn: str, request_id: str
    ) -> None:
        try:
            package = await self._work.run(signatures.read, data)
        except (zipfile.BadZipFile, ValueError, OSError):
            return  # not a zip: the upload's own check answers AWS's error for it
        allowed = config["AllowedPublishers"]["SigningProfileVersionArns"]
        keys = await self._profiles.public_keys(scope.account, allowed)
        verdict = await self._work.run(signatures.verify, package, keys)
        if verdict is Verdict.VALID:
            return
        if verdict is Verdict.CORRUPT:
            raise integrity_failed(function_arn)
        policy = config["CodeSigningPolicies"]["UntrustedArtifactOnDeployment"]
        if policy == "Enforce":
            raise verification_failed(function_arn)
        event(
            log,
            logging.WARNING,
            "code_signing.untrusted",
            "deployment %s of %s accepted with %s code (code signing policy Warn)",
            request_id,
            function_arn,
            verdict.value,
            request_id=request_id,
            function=function_arn,
            verdict=verdict.value,
            config=config["CodeSigningConfigArn"],
        )

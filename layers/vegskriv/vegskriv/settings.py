"""Typed configuration, read lazily from the environment (set by template.yaml or the local stack)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    changesets_table: str = Field("vegskriv-ChangesetsTable", alias="CHANGESETS_TABLE")
    objects_table: str = Field("vegskriv-ObjectsTable", alias="OBJECTS_TABLE")
    locks_table: str = Field("vegskriv-LocksTable", alias="LOCKS_TABLE")
    reference_table: str = Field("vegskriv-ReferenceTable", alias="REFERENCE_TABLE")
    services_table: str = Field("vegskriv-ServicesTable", alias="SERVICES_TABLE")
    provisioning_table: str = Field("vegskriv-ProvisioningTable", alias="PROVISIONING_TABLE")
    provisioning_state_machine_arn: str = Field("", alias="PROVISIONING_STATE_MACHINE_ARN")
    start_queue_url: str = Field("", alias="START_QUEUE_URL")
    # Push delivery to service owners (README "Submission services and masters"): tries, first pause.
    delivery_queue_url: str = Field("", alias="DELIVERY_QUEUE_URL")
    # Dead-letter queues, only read for the system status (GET /rest/v1/systemstatus).
    start_dlq_url: str = Field("", alias="START_DLQ_URL")
    delivery_dlq_url: str = Field("", alias="DELIVERY_DLQ_URL")
    push_max_attempts: int = Field(6, alias="PUSH_MAX_ATTEMPTS")
    push_first_pause_seconds: int = Field(30, alias="PUSH_FIRST_PAUSE_SECONDS")
    # Push signing keys: one Secrets Manager secret per owner, named this prefix + the owner's code.
    signing_secret_prefix: str = Field("vegskriv/signeringsnokkel/", alias="SIGNING_SECRET_PREFIX")
    state_machine_arn: str = Field("", alias="STATE_MACHINE_ARN")
    # Authentication: HS256 shared secret (local/dev) or an OIDC issuer's JWKS (AWS, e.g. Cognito).
    jwt_secret: str = Field("", alias="JWT_SECRET")
    jwt_jwks_url: str = Field("", alias="JWT_JWKS_URL")
    jwt_issuer: str = Field("vegskriv-local", alias="JWT_ISSUER")
    jwt_audience: str = Field("vegskriv", alias="JWT_AUDIENCE")
    jwt_roles_claim: str = Field("roles", alias="JWT_ROLES_CLAIM")
    # Login endpoints (/rest/v1/oidc): locally a user whose password equals the name gets these roles
    # (comma-separated; OIDC_LOCAL_USERS, a JSON object user -> list of roles, overrides per user);
    # on AWS a Cognito app client (USER_PASSWORD_AUTH) issues the tokens instead.
    oidc_local_roles: str = Field("0_bruker_fagdata", alias="OIDC_LOCAL_ROLES")
    oidc_local_users: str = Field("", alias="OIDC_LOCAL_USERS")
    oidc_cognito_client_id: str = Field("", alias="OIDC_COGNITO_CLIENT_ID")
    # Browser clients: origins allowed by CORS (comma-separated, "*" for any; empty = no CORS headers).
    cors_origins: str = Field("", alias="CORS_ORIGINS")
    # Longest accepted token lifetime (exp - iat); tokens without exp are refused outright.
    jwt_max_lifetime_seconds: int = Field(24 * 3600, alias="JWT_MAX_LIFETIME_SECONDS")
    # The catalog version in force; a changeset naming another gets IKKE_GJELDENDE_DATAKATALOGVERSJON.
    datakatalog_version: str = Field("2.38", alias="DATAKATALOG_VERSION")
    # A request body as sent (compressed if Content-Encoding: gzip), and what a gzip body unpacks to.
    max_body_bytes: int = Field(6_000_000, alias="MAX_BODY_BYTES")
    max_body_unpacked_bytes: int = Field(40_000_000, alias="MAX_BODY_UNPACKED_BYTES")
    # Two-step upload (README "Large changesets"): the bucket, the largest document as stored (gzip or
    # not), how long the presigned POST is good for, how long an upload may be registered (the bucket's
    # lifecycle rule deletes after a day) and the S3 endpoint the URL names (locally the moto server).
    upload_bucket: str = Field("vegskriv-opplasting", alias="UPLOAD_BUCKET")
    upload_max_bytes: int = Field(40_000_000, alias="MAX_OPPLASTING_BYTES")
    upload_url_seconds: int = Field(900, alias="OPPLASTING_URL_SEKUNDER")
    upload_keep_seconds: int = Field(23 * 3600, alias="OPPLASTING_GYLDIG_SEKUNDER")
    upload_endpoint_url: str = Field("", alias="OPPLASTING_S3_URL")
    # Backoff while waiting on locks: first pause, growth factor, longest pause (seconds).
    wait_first_seconds: int = Field(5, alias="WAIT_FIRST_SECONDS")
    wait_factor: float = Field(2.0, alias="WAIT_FACTOR")
    wait_max_seconds: int = Field(21600, alias="WAIT_MAX_SECONDS")
    lock_lease_seconds: int = Field(1800, alias="LOCK_LEASE_SECONDS")
    # External locks (POST /rest/v1/lås): longest duration and most live ones per owner.
    external_lock_max_seconds: int = Field(7 * 24 * 3600, alias="EXTERNAL_LOCK_MAX_SECONDS")
    external_locks_per_owner: int = Field(20, alias="EXTERNAL_LOCKS_PER_OWNER")
    # System failures (transient errors) a changeset may have before it ends AVVIST:SYSTEMFEIL.
    max_system_failures: int = Field(10, alias="MAX_SYSTEM_FAILURES")
    # endretEtter: a reader's next watermark is its read time minus this (store/changes.py).
    change_overlap_seconds: float = Field(120, alias="ENDRET_OVERLAPP_SEKUNDER")
    # Limits on one changeset and one object (README "Limits"): bounds on cost, not storage needs
    # (version lists too large for a DynamoDB item are spilled to chunks).
    max_objects_per_changeset: int = Field(10_000, alias="MAX_VEGOBJEKTER")
    max_object_bytes: int = Field(190_000, alias="MAX_VEGOBJEKT_BYTES")
    max_wkt_length: int = Field(150_000, alias="MAX_WKT_LENGDE")
    max_text_length: int = Field(4000, alias="MAX_TEKST_LENGDE")
    # Shortest line location in metres (NVDB keeps it in its control panel's validation settings).
    min_stedfesting_meter: float = Field(1.0, alias="MIN_STEDFESTING_METER")
    # Binary objects (/rest/v3/binaer, README "Binary objects, oppdrag and transaksjon"): the S3 bucket,
    # the largest upload (a Lambda payload is 6 MB and carries binaries base64-encoded) and the media
    # types accepted (comma-separated; "*/*" for any).
    binary_bucket: str = Field("vegskriv-binaer", alias="BINARY_BUCKET")
    binary_max_bytes: int = Field(4_000_000, alias="BINARY_MAX_BYTES")
    binary_media_types: str = Field("image/png,image/jpeg,image/gif,image/tiff,image/webp,application/pdf,"
                                    "video/mp4,text/plain,application/octet-stream", alias="BINARY_MEDIA_TYPES")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))

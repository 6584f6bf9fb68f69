-- Rights: khewat (ownership account), khatauni (cultivation account), shares, mutations,
-- jamabandi. LADM: share is an LA_RRR (right) held by a party over a BA-unit (khewat);
-- mutation is the LA_AdministrativeSource that changes it.

CREATE TABLE khewat (
    id               bigserial PRIMARY KEY,
    mouza_id         bigint NOT NULL REFERENCES mouza (id),
    number           integer NOT NULL CHECK (number > 0),
    previous_number  integer CHECK (previous_number > 0),
    UNIQUE (mouza_id, number),
    UNIQUE (id, mouza_id)  -- lets children prove they stay in one mouza
);

-- The khasras of a khewat over time, with the part of each khasra's area it holds.
CREATE TABLE khewat_khasra (
    khewat_id     bigint NOT NULL,
    khasra_id     bigint NOT NULL,
    mouza_id      bigint NOT NULL,
    area_sarsai   integer NOT NULL CHECK (area_sarsai > 0),
    valid_from    date NOT NULL,
    valid_to      date CHECK (valid_to IS NULL OR valid_to > valid_from),
    PRIMARY KEY (khewat_id, khasra_id, valid_from),
    FOREIGN KEY (khewat_id, mouza_id) REFERENCES khewat (id, mouza_id),
    FOREIGN KEY (khasra_id) REFERENCES khasra (id)
);
CREATE INDEX khewat_khasra_khasra_idx ON khewat_khasra (khasra_id);

CREATE TABLE mutation (
    id                  bigserial PRIMARY KEY,
    mouza_id            bigint NOT NULL REFERENCES mouza (id),
    number              integer NOT NULL CHECK (number > 0),  -- per-mouza register number
    type                text NOT NULL CHECK (type IN ('sale', 'inheritance', 'gift', 'mortgage',
                             'redemption', 'exchange', 'partition', 'court_decree', 'lease')),
    status              text NOT NULL CHECK (status IN ('entered', 'verified', 'sanctioned',
                                                        'rejected')),
    entered_on          date NOT NULL,
    verified_on         date,
    decided_on          date,  -- sanctioned or rejected
    rejection_reason    text,
    officer_id          bigint REFERENCES officer (id),  -- who sanctioned or rejected
    deed_number         text,
    sub_registrar       text,
    deed_date           date,
    consideration_rs    numeric(16, 0) CHECK (consideration_rs >= 0),  -- declared price
    statutory_value_rs  numeric(16, 0) CHECK (statutory_value_rs >= 0),
    fees_rs             numeric(14, 0) CHECK (fees_rs >= 0),
    remarks             text,
    UNIQUE (mouza_id, number),
    -- the dates and fields each status needs
    CONSTRAINT mutation_status_fields CHECK (CASE status
             WHEN 'entered'    THEN verified_on IS NULL AND decided_on IS NULL
             WHEN 'verified'   THEN verified_on IS NOT NULL AND decided_on IS NULL
             WHEN 'sanctioned' THEN decided_on IS NOT NULL AND officer_id IS NOT NULL
                                    AND rejection_reason IS NULL
             WHEN 'rejected'   THEN decided_on IS NOT NULL AND officer_id IS NOT NULL
                                    AND btrim(coalesce(rejection_reason, '')) <> ''
           END),
    CONSTRAINT mutation_verified_after_entered CHECK (verified_on >= entered_on),
    CONSTRAINT mutation_decided_after_entered CHECK (decided_on >= entered_on),
    CONSTRAINT mutation_decided_after_verified
        CHECK (verified_on IS NULL OR decided_on IS NULL OR decided_on >= verified_on),
    CONSTRAINT mutation_deed_complete CHECK ((deed_number IS NULL) = (deed_date IS NULL))
);
CREATE INDEX mutation_status_idx ON mutation (mouza_id, status, decided_on);

ALTER TABLE khasra
    ADD FOREIGN KEY (created_by_mutation_id) REFERENCES mutation (id),
    ADD FOREIGN KEY (retired_by_mutation_id) REFERENCES mutation (id);

-- One transfer of a fraction of a khewat (of the whole khewat) from one party to another.
-- Creation of a right (e.g. a mortgage) has a transferee only; extinction a transferor only.
CREATE TABLE mutation_line (
    mutation_id          bigint NOT NULL REFERENCES mutation (id) ON DELETE CASCADE,
    line_no              integer NOT NULL CHECK (line_no > 0),
    khewat_id            bigint NOT NULL REFERENCES khewat (id),
    transferor_party_id  bigint REFERENCES party (id),
    transferee_party_id  bigint REFERENCES party (id),
    numerator            bigint NOT NULL CHECK (numerator > 0),
    denominator          bigint NOT NULL CHECK (denominator > 0),
    right_type           text NOT NULL DEFAULT 'ownership'
                         CHECK (right_type IN ('ownership', 'mortgage_with_possession',
                                               'mortgage_without_possession', 'lease')),
    PRIMARY KEY (mutation_id, line_no),
    CONSTRAINT mutation_line_proper_fraction CHECK (numerator <= denominator),
    CONSTRAINT mutation_line_has_party
        CHECK (transferor_party_id IS NOT NULL OR transferee_party_id IS NOT NULL),
    CONSTRAINT mutation_line_distinct_parties
        CHECK (transferor_party_id IS DISTINCT FROM transferee_party_id)
);
CREATE INDEX mutation_line_khewat_idx ON mutation_line (khewat_id);
CREATE INDEX mutation_line_transferor_idx ON mutation_line (transferor_party_id);
CREATE INDEX mutation_line_transferee_idx ON mutation_line (transferee_party_id);

-- A party's fraction of a khewat over a period. Shares are never updated in place: a
-- sanctioned mutation closes old rows (valid_to) and opens new ones, so the record of
-- rights on any date is a query, not a mutable table.
CREATE TABLE share (
    id                     bigserial PRIMARY KEY,
    khewat_id              bigint NOT NULL REFERENCES khewat (id),
    party_id               bigint NOT NULL REFERENCES party (id),
    numerator              bigint NOT NULL CHECK (numerator > 0),
    denominator            bigint NOT NULL CHECK (denominator > 0),
    right_type             text NOT NULL DEFAULT 'ownership'
                           CHECK (right_type IN ('ownership', 'mortgage_with_possession',
                                                 'mortgage_without_possession', 'lease')),
    valid_from             date NOT NULL,
    valid_to               date CONSTRAINT share_period_order
                           CHECK (valid_to IS NULL OR valid_to > valid_from),
    created_by_mutation_id bigint REFERENCES mutation (id),  -- NULL: from settlement
    ended_by_mutation_id   bigint REFERENCES mutation (id),
    CONSTRAINT share_proper_fraction CHECK (numerator <= denominator),
    CONSTRAINT share_end_has_mutation CHECK ((valid_to IS NULL) = (ended_by_mutation_id IS NULL))
);
CREATE INDEX share_khewat_idx ON share (khewat_id, valid_from);
CREATE INDEX share_party_idx ON share (party_id);

CREATE TABLE khatauni (
    id                   bigserial PRIMARY KEY,
    khewat_id            bigint NOT NULL REFERENCES khewat (id),
    number               integer NOT NULL CHECK (number > 0),
    cultivator_party_id  bigint NOT NULL REFERENCES party (id),
    tenancy              text NOT NULL CHECK (tenancy IN ('self_cultivation', 'tenant_at_will',
                                                          'occupancy_tenant', 'lessee')),
    rent_rs              numeric(14, 0) CHECK (rent_rs >= 0),
    valid_from           date NOT NULL,
    valid_to             date CHECK (valid_to IS NULL OR valid_to > valid_from),
    UNIQUE (khewat_id, number, valid_from)
);

CREATE TABLE khatauni_khasra (
    khatauni_id  bigint NOT NULL REFERENCES khatauni (id),
    khasra_id    bigint NOT NULL REFERENCES khasra (id),
    PRIMARY KEY (khatauni_id, khasra_id)
);

-- The record of rights of a mouza for a year (redone every 4 years in Punjab).
CREATE TABLE jamabandi (
    id           bigserial PRIMARY KEY,
    mouza_id     bigint NOT NULL REFERENCES mouza (id),
    year         integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    attested_by  bigint REFERENCES officer (id),
    attested_on  date,
    UNIQUE (mouza_id, year),
    CONSTRAINT jamabandi_attestation_complete CHECK ((attested_by IS NULL) = (attested_on IS NULL))
);

-- The mutation engine (issue 3): who verified, the facts of inheritance and partition
-- mutations, and flags raised on entry. Sanctioning itself needs no new table: it closes
-- and opens share rows (003) and writes the audit log (004/005).

-- The officer who verified (the one who sanctioned or rejected is mutation.officer_id).
ALTER TABLE mutation ADD COLUMN verified_by bigint REFERENCES officer (id);

-- An inheritance (wirasat) mutation is computed from the deceased, the school of law and
-- the heirs as the officer states them: party relations are not in the database, so the
-- heir kinds are recorded here, excluded heirs (share 0) included, and the faraid check
-- (landgov.records.mutations.check_inheritance) recomputes the lines from them.
CREATE TABLE mutation_inheritance (
    mutation_id        bigint PRIMARY KEY REFERENCES mutation (id) ON DELETE CASCADE,
    deceased_party_id  bigint NOT NULL REFERENCES party (id),
    school             text NOT NULL CHECK (school IN ('hanafi', 'jafari'))
);

-- heir_kind: a landgov.domain.faraid.Heir value, or the child of a predeceased son or
-- daughter under MFLO 1961 s.4 ('predeceased_son_1.daughter'), or 'bait_ul_mal'.
CREATE TABLE mutation_heir (
    mutation_id  bigint NOT NULL REFERENCES mutation_inheritance (mutation_id) ON DELETE CASCADE,
    party_id     bigint NOT NULL REFERENCES party (id),
    heir_kind    text NOT NULL CHECK (heir_kind ~ '^([a-z_]+|predeceased_(son|daughter)_[1-9][0-9]*\.(son|daughter))$'),
    PRIMARY KEY (mutation_id, party_id)
);

-- A partition (taqseem) divides one khasra of one khewat among its co-owners; the lines
-- give each co-owner 1/1 of a new khewat, and the sanction creates the tatima parcels.
CREATE TABLE mutation_partition (
    mutation_id  bigint PRIMARY KEY REFERENCES mutation (id) ON DELETE CASCADE,
    khewat_id    bigint NOT NULL REFERENCES khewat (id),
    khasra_id    bigint NOT NULL REFERENCES khasra (id)
);

-- Problems found in an entered mutation that do not stop its entry but will stop its
-- sanction, e.g. inheritance shares that differ from faraid (rule faraid_shares).
CREATE TABLE mutation_flag (
    id           bigserial PRIMARY KEY,
    mutation_id  bigint NOT NULL REFERENCES mutation (id) ON DELETE CASCADE,
    rule         text NOT NULL CHECK (btrim(rule) <> ''),
    raised_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX mutation_flag_mutation_idx ON mutation_flag (mutation_id);

-- The open rows of a khewat, which every sanction reads under its lock.
CREATE INDEX share_open_idx ON share (khewat_id) WHERE valid_to IS NULL;

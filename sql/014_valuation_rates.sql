-- Statutory values and transfer taxes (issue 7): effective-dated rate tables as data.
-- Every rate is valid over [valid_from, valid_to) (valid_to NULL: until replaced), and
-- the database refuses two rows for the same key whose periods overlap, so "the rate in
-- force on a date" is always one row or none. Rates change by notification, never in code.
CREATE EXTENSION IF NOT EXISTS btree_gist;  -- equality on ids/text inside EXCLUDE (gist)

-- District Collector rates: rupees per area unit for a land class, notified for a mouza
-- or, as a fallback, for a whole admin unit (tehsil, district...). A lookup takes the
-- mouza's own row first, then its tehsil's, district's... upwards.
CREATE TABLE dc_rate (
    id             bigserial PRIMARY KEY,
    mouza_id       bigint REFERENCES mouza (id),
    admin_unit_id  bigint REFERENCES admin_unit (id),
    land_class     text NOT NULL CHECK (land_class IN ('nehri', 'chahi', 'barani', 'banjar',
                                        'ghair_mumkin', 'abadi', 'shamlat', 'forest')),
    rs_per_unit    numeric(16, 2) NOT NULL CHECK (rs_per_unit > 0),
    unit           text NOT NULL CHECK (unit IN ('acre', 'kanal', 'marla', 'sq_ft', 'sq_yd')),
    -- which marla a rate per kanal or marla means (272.25 or 225 ft², domain.md §3)
    unit_system    text NOT NULL DEFAULT 'standard' CHECK (unit_system IN ('standard', 'urban')),
    valid_from     date NOT NULL,
    valid_to       date CHECK (valid_to IS NULL OR valid_to > valid_from),
    notification   text,
    CONSTRAINT dc_rate_one_place CHECK ((mouza_id IS NULL) <> (admin_unit_id IS NULL)),
    CONSTRAINT dc_rate_no_overlap EXCLUDE USING gist (
        (coalesce(mouza_id, 0)) WITH =, (coalesce(admin_unit_id, 0)) WITH =,
        land_class WITH =, daterange(valid_from, valid_to) WITH &&)
);
CREATE INDEX dc_rate_mouza_idx ON dc_rate (mouza_id, land_class, valid_from);
CREATE INDEX dc_rate_admin_idx ON dc_rate (admin_unit_id, land_class, valid_from);

-- FBR valuation tables (section 68, Income Tax Ordinance 2001): rupees per square yard
-- per city, locality and category, notified by SRO.
CREATE TABLE fbr_value (
    id            bigserial PRIMARY KEY,
    city          text NOT NULL CHECK (btrim(city) <> ''),
    locality      text NOT NULL CHECK (btrim(locality) <> ''),
    category      text NOT NULL CHECK (category IN ('residential', 'commercial',
                                       'agricultural', 'industrial', 'constructed')),
    rs_per_sq_yd  numeric(16, 2) NOT NULL CHECK (rs_per_sq_yd > 0),
    valid_from    date NOT NULL,
    valid_to      date CHECK (valid_to IS NULL OR valid_to > valid_from),
    sro           text,
    CONSTRAINT fbr_value_no_overlap EXCLUDE USING gist (
        (lower(btrim(city))) WITH =, (lower(btrim(locality))) WITH =, category WITH =,
        daterange(valid_from, valid_to) WITH &&)
);

-- Transfer and property taxes as banded rules. A band covers values in
-- (lower_rs, upper_rs] (NULL: open). method 'whole_value': the rate of the band the base
-- falls in applies to the whole base (as FBR applies 236K/236C); 'marginal': each band's
-- rate applies to the part of the base inside it (progressive slabs).
-- level/area name where the rule applies: federal (area NULL), or a province, district
-- or tehsil by name, matched against the mouza's place in the hierarchy.
CREATE TABLE tax_rule (
    id               bigserial PRIMARY KEY,
    code             text NOT NULL CHECK (code IN ('236K', '236C', 'stamp_duty', 'cvt',
                                          'town_fee', 'property_tax')),
    level            text NOT NULL CHECK (level IN ('federal', 'province', 'district',
                                                    'tehsil')),
    area             text CHECK (area IS NULL OR btrim(area) <> ''),
    taxpayer_status  text NOT NULL DEFAULT 'any'
                     CHECK (taxpayer_status IN ('any', 'active', 'late_filer', 'inactive')),
    lower_rs         numeric(16, 0) CHECK (lower_rs >= 0),
    upper_rs         numeric(16, 0) CHECK (upper_rs IS NULL OR lower_rs IS NULL
                                           OR upper_rs > lower_rs),
    rate             numeric(8, 6) NOT NULL CHECK (rate >= 0 AND rate <= 1),
    method           text NOT NULL DEFAULT 'whole_value'
                     CHECK (method IN ('whole_value', 'marginal')),
    base             text NOT NULL CHECK (base IN ('taxable_value', 'annual_rental_value')),
    payer            text NOT NULL CHECK (payer IN ('buyer', 'seller', 'owner')),
    valid_from       date NOT NULL,
    valid_to         date CHECK (valid_to IS NULL OR valid_to > valid_from),
    source           text NOT NULL CHECK (btrim(source) <> ''),
    CONSTRAINT tax_rule_area_by_level CHECK ((level = 'federal') = (area IS NULL)),
    CONSTRAINT tax_rule_no_overlap EXCLUDE USING gist (
        code WITH =, level WITH =, (lower(coalesce(area, ''))) WITH =,
        taxpayer_status WITH =, numrange(lower_rs, upper_rs, '(]') WITH &&,
        daterange(valid_from, valid_to) WITH &&)
);

-- Annual rental value (ARV) per square foot and year, by locality and category, for the
-- Punjab urban immovable property tax (5 % of ARV).
CREATE TABLE rental_value (
    id                     bigserial PRIMARY KEY,
    city                   text NOT NULL CHECK (btrim(city) <> ''),
    locality               text NOT NULL CHECK (btrim(locality) <> ''),
    category               text NOT NULL CHECK (category IN ('residential', 'commercial',
                                                'industrial')),
    rs_per_sq_ft_per_year  numeric(12, 2) NOT NULL CHECK (rs_per_sq_ft_per_year > 0),
    valid_from             date NOT NULL,
    valid_to               date CHECK (valid_to IS NULL OR valid_to > valid_from),
    notification           text,
    CONSTRAINT rental_value_no_overlap EXCLUDE USING gist (
        (lower(btrim(city))) WITH =, (lower(btrim(locality))) WITH =, category WITH =,
        daterange(valid_from, valid_to) WITH &&)
);

-- domain.md §7. Federal withholding for active taxpayers from the Finance Act 2025; the
-- earlier years' rates are not seeded (load them from a tax CSV when needed), so a
-- transfer before 2025-07-01 gets no federal line rather than a wrong one.
INSERT INTO tax_rule (code, level, area, taxpayer_status, lower_rs, upper_rs, rate, base,
                      payer, valid_from, source) VALUES
('236K', 'federal', NULL, 'active', NULL, 50000000, 0.015, 'taxable_value', 'buyer',
 '2025-07-01', 'Finance Act 2025, s.236K (active taxpayers); domain.md §7'),
('236K', 'federal', NULL, 'active', 50000000, 100000000, 0.02, 'taxable_value', 'buyer',
 '2025-07-01', 'Finance Act 2025, s.236K (active taxpayers); domain.md §7'),
('236K', 'federal', NULL, 'active', 100000000, NULL, 0.025, 'taxable_value', 'buyer',
 '2025-07-01', 'Finance Act 2025, s.236K (active taxpayers); domain.md §7'),
('236C', 'federal', NULL, 'active', NULL, 50000000, 0.045, 'taxable_value', 'seller',
 '2025-07-01', 'Finance Act 2025, s.236C (active taxpayers); domain.md §7'),
('236C', 'federal', NULL, 'active', 50000000, 100000000, 0.05, 'taxable_value', 'seller',
 '2025-07-01', 'Finance Act 2025, s.236C (active taxpayers); domain.md §7'),
('236C', 'federal', NULL, 'active', 100000000, NULL, 0.055, 'taxable_value', 'seller',
 '2025-07-01', 'Finance Act 2025, s.236C (active taxpayers); domain.md §7'),
('stamp_duty', 'district', 'Lahore', 'any', NULL, NULL, 0.03, 'taxable_value', 'buyer',
 '2025-07-01', 'domain.md §7 example, Lahore: to confirm'),
('cvt', 'district', 'Lahore', 'any', NULL, NULL, 0.02, 'taxable_value', 'buyer',
 '2025-07-01', 'domain.md §7 example, Lahore: to confirm'),
('town_fee', 'district', 'Lahore', 'any', NULL, NULL, 0.01, 'taxable_value', 'buyer',
 '2025-07-01', 'domain.md §7 example, Lahore: to confirm'),
('property_tax', 'province', 'Punjab', 'any', NULL, NULL, 0.05, 'annual_rental_value',
 'owner', '2025-07-01', 'Punjab urban immovable property tax, 5 % of ARV; domain.md §7');

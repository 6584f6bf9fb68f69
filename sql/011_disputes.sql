-- Dispute detection (issue: disputes): named rules with their thresholds as data, the
-- flags a scan raises (deduplicated by a fingerprint of rule + subject), and officers'
-- cases with a lifecycle. Every case step is also an audit_log row (written by the code).

CREATE TABLE dispute_rule (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
    family          text NOT NULL CHECK (family IN ('shares', 'transfers', 'inheritance',
                                          'sanction', 'spatial', 'state_land', 'price',
                                          'record_quality', 'imagery')),
    signal          integer NOT NULL CHECK (signal BETWEEN 1 AND 12),  -- domain.md §6
    severity        text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    weight          double precision NOT NULL CHECK (weight > 0),
    thresholds      jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled         boolean NOT NULL DEFAULT true,
    title_en        text NOT NULL CHECK (btrim(title_en) <> ''),
    title_ur        text NOT NULL CHECK (btrim(title_ur) <> ''),
    explain_en      text NOT NULL CHECK (btrim(explain_en) <> ''),
    explain_ur      text NOT NULL CHECK (btrim(explain_ur) <> '')
);

CREATE TABLE dispute_scan (
    id              bigserial PRIMARY KEY,
    mouza_id        bigint REFERENCES mouza (id),
    since           date,
    started_at      timestamptz NOT NULL DEFAULT now(),
    summary         jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE dispute_flag (
    id              bigserial PRIMARY KEY,
    rule_id         text NOT NULL REFERENCES dispute_rule (id),
    fingerprint     text NOT NULL UNIQUE,  -- rule + subject: a re-scan finds, not duplicates
    mouza_id        bigint NOT NULL REFERENCES mouza (id),
    khasra_id       bigint REFERENCES khasra (id),
    khewat_id       bigint REFERENCES khewat (id),
    mutation_id     bigint REFERENCES mutation (id),
    measure         double precision,
    threshold       double precision,
    evidence        jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom            geometry(MultiPolygon, 4326),  -- the overlap, gap or structure
    first_scan_id   bigint NOT NULL REFERENCES dispute_scan (id),
    last_scan_id    bigint NOT NULL REFERENCES dispute_scan (id),
    resolved        boolean NOT NULL DEFAULT false  -- not found by the latest full scan
);
CREATE INDEX dispute_flag_khasra_idx ON dispute_flag (khasra_id);
CREATE INDEX dispute_flag_khewat_idx ON dispute_flag (khewat_id);
CREATE INDEX dispute_flag_mouza_idx ON dispute_flag (mouza_id, rule_id);
CREATE INDEX dispute_flag_geom_gix ON dispute_flag USING gist (geom);

CREATE TABLE dispute_case (
    id              bigserial PRIMARY KEY,
    mouza_id        bigint NOT NULL REFERENCES mouza (id),
    subject         text NOT NULL CHECK (subject IN ('khasra', 'khewat', 'state_land')),
    subject_id      bigint NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'under_review',
                                       'confirmed', 'dismissed', 'referred')),
    risk            double precision NOT NULL DEFAULT 0 CHECK (risk >= 0),
    reason          text,
    referred_on     date,
    decide_by       date,  -- referral + 90 days: the committee's deadline
    opened_at       timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'dismissed' OR btrim(coalesce(reason, '')) <> ''),
    CHECK ((status = 'referred') = (referred_on IS NOT NULL AND decide_by IS NOT NULL))
);
-- one live case per subject: a re-scan attaches new flags to it instead of opening another
CREATE UNIQUE INDEX dispute_case_open_subject ON dispute_case (subject, subject_id)
    WHERE status IN ('open', 'under_review', 'referred', 'confirmed');

CREATE TABLE dispute_case_flag (
    case_id         bigint NOT NULL REFERENCES dispute_case (id) ON DELETE CASCADE,
    flag_id         bigint NOT NULL REFERENCES dispute_flag (id),
    PRIMARY KEY (case_id, flag_id)
);

-- The rules implemented so far (more families add their rows in later migrations).
INSERT INTO dispute_rule (id, family, signal, severity, weight, thresholds, title_en, title_ur,
                          explain_en, explain_ur) VALUES
('share_total_not_one', 'shares', 1, 'critical', 5, '{"tolerance": 0}',
 'Khewat shares do not add up to one', 'کھیوٹ کے حصص کا مجموعہ ایک نہیں',
 'On some date the owners'' shares in this khewat add up to more or less than the whole: more is over-allocation (land sold twice on paper), less leaves part of the land without an owner.',
 'کسی تاریخ پر اس کھیوٹ کے مالکان کے حصص کا مجموعہ پورے رقبے سے زیادہ یا کم ہے: زیادہ ہونا دوہری فروخت کی علامت ہے، کم ہونے سے رقبے کا کچھ حصہ بغیر مالک کے رہ جاتا ہے۔'),
('same_day_sanction', 'sanction', 7, 'medium', 2, '{"min_days": 1}',
 'Mutation sanctioned on the day it was entered', 'انتقال اسی دن منظور ہوا جس دن درج ہوا',
 'The mutation was sanctioned sooner after entry than the notice period allows, so interested parties had no time to object.',
 'انتقال درج ہونے کے بعد نوٹس کی مدت پوری ہونے سے پہلے منظور کر دیا گیا، اس لیے متعلقہ فریقین کو اعتراض کا موقع نہیں ملا۔'),
('transfer_without_deed', 'transfers', 6, 'medium', 2,
 '{"required_from": "2025-12-01", "exempt_types": ["inheritance"]}',
 'Transfer without a registered deed', 'رجسٹرڈ دستاویز کے بغیر منتقلی',
 'A transfer was sanctioned with no registered deed number after deeds became required for it.',
 'دستاویز لازم ہونے کے بعد یہ منتقلی رجسٹرڈ دستاویز نمبر کے بغیر منظور ہوئی۔'),
('girdawari_vs_satellite', 'imagery', 12, 'low', 1, '{"min_probability": 0.9}',
 'Recorded crop differs from what the satellite sees', 'گرداوری میں درج فصل سیٹلائٹ سے مختلف',
 'The crop model, confident on clear imagery, sees another crop than the girdawari entry: either a wrong entry or possession changed without a mutation.',
 'سیٹلائٹ تصاویر پر فصل کا ماڈل گرداوری کے اندراج سے مختلف فصل دیکھتا ہے: یا تو اندراج غلط ہے یا قبضہ انتقال کے بغیر بدل گیا ہے۔'),
('structure_on_state_land', 'state_land', 10, 'high', 4, '{"min_confidence": 0.8}',
 'New structure on state land or a right-of-way', 'سرکاری زمین یا راستے کی حد میں نئی تعمیر',
 'Imagery shows a structure built between two dates on state land or inside a canal or road right-of-way.',
 'تصاویر سے ظاہر ہے کہ دو تاریخوں کے درمیان سرکاری زمین پر یا نہر یا سڑک کی حد کے اندر تعمیر کی گئی ہے۔'),
('transfer_exceeds_holding', 'transfers', 2, 'critical', 5, '{}',
 'Transferor transferred more than they held', 'منتقل کنندہ نے اپنے حصے سے زیادہ منتقل کیا',
 'On the sanction date the transferor held less in this khewat than the mutation transfers: the excess belongs to someone else.',
 'منظوری کی تاریخ پر منتقل کنندہ کا اس کھیوٹ میں حصہ منتقل کیے گئے حصے سے کم تھا: زائد حصہ کسی اور کی ملکیت ہے۔'),
('sale_after_death', 'transfers', 4, 'critical', 5, '{}',
 'Transfer in the name of a dead person', 'فوت شدہ شخص کے نام پر منتقلی',
 'The deed was executed, or the mutation entered, after the transferor had died: only heirs can transfer a deceased owner''s land, by inheritance first.',
 'منتقل کنندہ کی وفات کے بعد دستاویز تیار ہوئی یا انتقال درج ہوا: فوت شدہ مالک کی زمین پہلے وراثت سے ورثا کو منتقل ہوتی ہے۔'),
('stale_pending_mutation', 'record_quality', 11, 'low', 1, '{"max_days": 365}',
 'Entry left unattested for over a year', 'ایک سال سے زائد غیر تصدیق شدہ اندراج',
 'The mutation was entered long ago and never verified or decided, leaving the record uncertain.',
 'یہ انتقال بہت پہلے درج ہوا مگر کبھی تصدیق یا فیصلہ نہیں ہوا، جس سے ریکارڈ غیر یقینی ہے۔'),
('under_declared_price', 'price', 8, 'medium', 2, '{"min_ratio": 1.0}',
 'Declared price below the statutory value', 'ظاہر کردہ قیمت سرکاری قیمت سے کم',
 'The price declared for this sale is below the DC value of the land: tax is due on the statutory value, and the gap may hide a sham sale.',
 'اس بیع میں ظاہر کی گئی قیمت ڈی سی ریٹ سے کم ہے: ٹیکس سرکاری قیمت پر واجب ہے، اور یہ فرق فرضی بیع کی نشاندہی ہو سکتا ہے۔'),
('deeds_short_window', 'transfers', 3, 'high', 3, '{"window_days": 30}',
 'Quick resale: two deeds on the same land within days', 'چند دنوں میں ایک ہی زمین کی دوبارہ فروخت',
 'The buyer under one registered deed sold the same land again under another deed within a few weeks: a common pattern of fraudulent chains of title.',
 'ایک رجسٹرڈ دستاویز کے خریدار نے چند ہفتوں کے اندر وہی زمین دوسری دستاویز سے آگے بیچ دی: جعلی ملکیتی سلسلے کا عام طریقہ۔'),
('officer_outside_jurisdiction', 'sanction', 7, 'high', 3, '{}',
 'Sanctioned by an officer without jurisdiction', 'غیر مجاز افسر کی منظوری',
 'The officer who sanctioned the mutation had no posting over this mouza''s tehsil or circle on that date.',
 'انتقال منظور کرنے والے افسر کی اس تاریخ پر اس موضع کی تحصیل یا حلقے پر تعیناتی نہیں تھی۔'),
('overlap', 'spatial', 9, 'high', 3, '{"overlap_fraction": 0.01}',
 'Parcels overlap', 'خسرہ جات ایک دوسرے پر چڑھے ہوئے',
 'Two live khasras overlap by more than 1 % of the smaller one: the same ground is recorded twice.',
 'دو موجودہ خسرے چھوٹے خسرے کے ایک فیصد سے زیادہ ایک دوسرے پر آتے ہیں: ایک ہی زمین دو بار درج ہے۔'),
('gap', 'spatial', 9, 'low', 1, '{"min_gap_m2": 50}',
 'Gap between parcels', 'خسرہ جات کے درمیان خالی جگہ',
 'Land inside the mouza is covered by no khasra and no state land: unrecorded land, or a boundary drawn wrong.',
 'موضع کے اندر کچھ زمین کسی خسرے یا سرکاری زمین میں شامل نہیں: یا تو غیر درج زمین ہے یا حد غلط کھینچی گئی ہے۔'),
('sliver', 'spatial', 9, 'low', 0.5, '{"sliver_ratio": 0.5, "min_sliver_m2": 1}',
 'Sliver between parcels', 'خسرہ جات کے درمیان باریک پٹی',
 'A thin strip between neighbouring khasras belongs to none of them: usually a digitising error.',
 'ہمسایہ خسرہ جات کے درمیان ایک باریک پٹی کسی میں شامل نہیں: عموماً نقشہ سازی کی غلطی۔'),
('area_mismatch', 'spatial', 9, 'medium', 2, '{"area_tolerance": 0.01}',
 'Record area differs from the map', 'ریکارڈ کا رقبہ نقشے سے مختلف',
 'The khasra''s area in the record differs from its area on the map by more than the tolerance (looser for digitised village maps).',
 'ریکارڈ میں خسرے کا رقبہ نقشے پر رقبے سے مقررہ حد سے زیادہ مختلف ہے (ڈیجیٹائز شدہ نقشوں کے لیے حد زیادہ ہے)۔'),
('tatima_area_mismatch', 'spatial', 9, 'medium', 2, '{"tatima_tolerance": 0.01}',
 'Sub-parcels do not add up to the parent', 'تتمہ خسرہ جات کا رقبہ اصل خسرے کے برابر نہیں',
 'The tatima khasras made by a partition do not add up to the parent khasra''s area: land was lost or gained on paper.',
 'تقسیم سے بنے تتمہ خسرہ جات کا مجموعی رقبہ اصل خسرے کے برابر نہیں: کاغذ پر زمین کم یا زیادہ ہو گئی۔'),
('private_on_state_land', 'state_land', 10, 'high', 4, '{"buffer_scale": 0}',
 'Private parcel on state land', 'سرکاری زمین پر نجی خسرہ',
 'A private khasra overlaps state land or a canal or road right-of-way by more than the minimum area.',
 'ایک نجی خسرہ سرکاری زمین یا نہر یا سڑک کی حد میں کم از کم رقبے سے زیادہ داخل ہے۔');

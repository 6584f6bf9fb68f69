-- Dispute rules that hold on cases nobody planted (issue 16).
--
-- Graded signals: a flag carries a grade in (0, 1], a documented monotone function of its
-- evidence (landgov.disputes.grades), and a case's risk is Σ weight × severity factor ×
-- grade. dispute_rule.grade says, per rule, which evidence is graded, the points of the
-- piecewise-linear ramp and where they come from; a rule without one grades every flag 1.
ALTER TABLE dispute_rule ADD COLUMN grade jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE dispute_flag ADD COLUMN grade double precision NOT NULL DEFAULT 1
    CHECK (grade > 0 AND grade <= 1);

-- The grades (landgov.disputes.grades): ramps over evidence, their product a flag's grade.
-- Where the points come from is in each row's "source".
UPDATE dispute_rule SET
    thresholds = thresholds || '{"window_days": 730, "min_age": 50}',
    grade = '{"factors": [{"evidence": "age_at_gift", "points": [[50, 0], [70, 1]]},
                          {"evidence": "days_before_death", "points": [[90, 1], [730, 0]]}],
              "source": "domain.md §6.4 (a gift shortly before death by an aged donor). The rule used to start at age 70 and 365 days: those points keep full weight (age) and 0.57 (days), and the ramps reach 0 at age 50 and two years, so a donor of 69 or a death on day 366 is weighed a little less, not ignored."}'
WHERE id = 'gift_before_death';

UPDATE dispute_rule SET
    grade = '{"factors": [{"evidence": "declared_ratio", "points": [[0.3, 1], [1.0, 0]]}],
              "source": "domain.md §6.8 and §7: tax is due on max(declared, DC value). A price at 30 % of the DC value or less is the shape of a sham price and weighs fully; near the DC value the shortfall may be rounding or a poor parcel, so the weight falls linearly to 0 at the DC value itself."}',
    explain_en = 'The price declared for this sale is below the value of the land at the DC table in force on the deed date (whatever statutory value is written on the mutation): tax is due on the statutory value, and the gap may hide a sham sale.',
    explain_ur = 'اس بیع میں ظاہر کی گئی قیمت دستاویز کی تاریخ پر نافذ ڈی سی ریٹ کے مطابق زمین کی قیمت سے کم ہے (انتقال پر جو بھی سرکاری قیمت لکھی ہو): ٹیکس سرکاری قیمت پر واجب ہے، اور یہ فرق فرضی بیع کی نشاندہی ہو سکتا ہے۔'
WHERE id = 'under_declared_price';

UPDATE dispute_rule SET
    thresholds = thresholds || '{"window_days": 45}',
    grade = '{"factors": [{"evidence": "days_between_deeds", "points": [[15, 1], [45, 0]]}],
              "source": "domain.md §6.3 (two deeds on one khasra within a short window). The rule used a 30-day window: a resale within 15 days weighs fully, at 30 days half, and the weight reaches 0 at 45 days."}'
WHERE id = 'deeds_short_window';

-- officer_outside_jurisdiction now checks every sanction's designation as well as its
-- posting, whichever way it entered the register (a sanction by a patwari, imported or
-- edited in); imported_decision_unchecked keeps imported verifications and rejections.
UPDATE dispute_rule SET
    title_en = 'Sanctioned by an officer who could not sanction it',
    title_ur = 'ایسے افسر کی منظوری جو منظوری کا مجاز نہیں تھا',
    explain_en = 'On the sanction date the officer named had no posting over this mouza''s tehsil or circle, or holds a designation without the power to sanction a mutation (a patwari or girdawar).',
    explain_ur = 'منظوری کی تاریخ پر مذکورہ افسر کی اس موضع کی تحصیل یا حلقے پر تعیناتی نہیں تھی، یا اس کا عہدہ (پٹواری یا گرداور) انتقال منظور کرنے کا اختیار نہیں رکھتا۔'
WHERE id = 'officer_outside_jurisdiction';

INSERT INTO dispute_rule (id, family, signal, severity, weight, thresholds, grade, title_en,
                          title_ur, explain_en, explain_ur) VALUES
('shares_differ_from_register', 'shares', 1, 'high', 3, '{}', '{}',
 'Stored shares differ from the register',
 'محفوظ حصص رجسٹر سے مختلف',
 'The share rows of this khewat differ from what its settlement and sanctioned mutations give, even allowing for mutations imported but not yet applied: rows were written, changed or ended outside any mutation.',
 'اس کھیوٹ کے محفوظ حصص بندوبست اور منظور شدہ انتقالات سے مختلف ہیں، درآمد شدہ مگر ابھی لاگو نہ ہونے والے انتقالات کو شامل کر کے بھی: حصص کسی انتقال کے بغیر لکھے، بدلے یا ختم کیے گئے۔'),
('statutory_value_misstated', 'price', 8, 'medium', 2, '{"tolerance": 0.005}',
 '{"factors": [{"evidence": "misstated_by", "points": [[0.005, 0], [0.25, 1]]}],
   "source": "domain.md §7: the statutory value is the DC rate in force × area × share, which the tables fix to the rupee. Within 0.5 % is rounding; a value 25 % off or more weighs fully."}',
 'Statutory value written on the mutation differs from the DC table',
 'انتقال پر لکھی سرکاری قیمت ڈی سی ریٹ سے مختلف',
 'The statutory value written on this sale is not the value of the land at the DC table in force on the deed date: a value copied low lowers the tax base and hides an under-declared price.',
 'اس بیع پر لکھی گئی سرکاری قیمت دستاویز کی تاریخ پر نافذ ڈی سی ریٹ کے مطابق زمین کی قیمت نہیں: کم لکھی گئی قیمت ٹیکس کی بنیاد کم کرتی ہے اور کم ظاہر کی گئی قیمت کو چھپاتی ہے۔');

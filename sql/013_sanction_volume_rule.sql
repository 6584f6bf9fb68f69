-- Unusual sanction volumes (domain.md §6.7): an officer clearing many times his usual
-- number of mutations in one day.
INSERT INTO dispute_rule (id, family, signal, severity, weight, thresholds, title_en, title_ur,
                          explain_en, explain_ur) VALUES
('sanction_volume_spike', 'sanction', 7, 'medium', 2,
 '{"min_count": 10, "factor": 5, "baseline_days": 365}',
 'Unusually many sanctions in one day', 'ایک دن میں غیر معمولی تعداد میں منظوریاں',
 'The officer sanctioned far more mutations that day than on his usual days: mass sanctions leave no time to check each one and are a known route for fraudulent entries.',
 'افسر نے اس دن اپنے معمول سے کہیں زیادہ انتقالات منظور کیے: بڑی تعداد میں منظوری سے ہر انتقال کی جانچ کا وقت نہیں رہتا اور یہ جعلی اندراجات کا معروف راستہ ہے۔');

#!/bin/bash
# Regenerates tests/fixtures/tree and tests/fixtures/jsonl (the CLI tests' small inputs).
# Run once from anywhere; the output is committed. Texts are written for these tests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fx=$here/../fixtures
rm -rf "$fx/tree" "$fx/jsonl"
mkdir -p "$fx/tree" "$fx/jsonl"
cd "$fx/tree"

# --- tree: Arabic, Persian, CRLF, not UTF-8, empty, nested, awkward names ---
mkdir -p ar/سياسة fa "fa/اخبار روز" crlf latin1 a/b/c/d/e misc dup nfc Case "fr/Été 2024"
printf '%s\n' 'وزير الاقتصاد يعلن خطة جديدة لدعم المؤسسات الصغيرة' '' \
  'أعلن وزير الاقتصاد اليوم عن حزمة إجراءات تهدف إلى دعم المؤسسات الصغيرة والمتوسطة،' \
  'وتشمل قروضًا ميسّرة وإعفاءات ضريبية لمدة ثلاث سنوات. وقال الوزير إن الخطة ستُطبَّق' \
  'ابتداءً من الشهر المقبل في جميع الولايات، مع متابعة دورية لنتائجها.' > 'ar/سياسة/خطة-الاقتصاد.txt'
printf '%s\n' 'الطقس: أمطار غزيرة متوقعة نهاية الأسبوع' '' \
  'توقعت مصلحة الأرصاد الجوية نزول أمطار غزيرة بداية من مساء الجمعة، ودعت السائقين إلى الحذر.' \
  'الأرقام: ١٢٣٤٥٦٧٨٩٠ و 1234567890 — نص مختلط RTL و LTR.' > ar/weather-001.txt
# Persian with ZWNJ (U+200C), Persian Yeh/Keheh and Arabic Yeh/Kaf mixed
printf '%s\n' 'گزارش ویژه: افزایش بارندگی در استان‌های شمالی' '' \
  'به گزارش خبرنگار ما، بارش‌ها در هفته‌ی گذشته نسبت به سال قبل افزایش یافته است.' \
  'كارشناسان مي‌گويند این روند ادامه خواهد داشت؛ کشاورزان از این خبر خوشحال‌اند.' > 'fa/اخبار روز/گزارش ویژه ۱۴۰۲.txt'
printf 'تیتر کوتاه\n' > fa/kotah.txt
printf 'Line one of a Windows file\r\nLine two\r\n\r\nLast line without newline' > crlf/windows.txt
# Latin-1 pound sign and e-acute: not valid UTF-8
printf 'Price: \243100 \351t\351 \377\376 end\n' > latin1/not-utf8.txt
# NUL bytes inside valid UTF-8, and a UTF-8 BOM
printf 'before\000after\000\000end\n' > misc/nul-bytes.txt
printf '\357\273\277BOM first line\nsecond\n' > misc/bom.txt
: > empty.txt
printf 'deep file\n' > a/b/c/d/e/deep.txt
printf 'été en ville\n' > 'fr/Été 2024/Événement à Montréal.txt'
printf 'quote and backslash in the name\n' > 'misc/quote"and\back slash.txt'
printf 'not an option\n' > 'misc/--not-an-option.txt'
printf 'same bytes in two files\n' > dup/one.txt
printf 'same bytes in two files\n' > dup/two.txt
printf 'NFC name\n' > "nfc/caf$(printf '\303\251').txt"
printf 'NFD name\n' > "nfc/cafe$(printf '\314\201').txt"
printf 'upper\n' > Case/A.txt
printf 'lower\n' > Case/a.txt
printf '\n' > misc/only-newline.txt
printf 'no trailing newline' > misc/no-eol.txt
# a few kilobytes of varied text so small --block-size gives several blocks
for i in 1 2 3 4 5 6 7 8; do
  printf 'Paragraph %d. The council met on Tuesday to discuss the budget for roads, schools and parks.\n' $i
  printf 'الفقرة %d. ناقش المجلس البلدي ميزانية الطرقات والمدارس والحدائق العامة.\n' $i
  printf 'بند %d. شورای شهر بودجه‌ی راه‌ها، مدرسه‌ها و پارک‌ها را بررسی کرد.\n' $i
done > misc/long-mixed.txt

# --- jsonl ---
cd "$fx/jsonl"
# news.jsonl: news-please style, trafilatura style, paragraphs-only (stored whole),
# duplicates, unicode escapes, \u0000, null, nested object, numbers, booleans,
# blank line, last line without newline.
{
printf '%s\n' '{"authors":["مراسل الشؤون المحلية","Jane Doe"],"date_download":"2024-05-03 10:00:00","date_modify":null,"date_publish":"2024-05-02 08:30:00","description":"ملخص قصير للخبر","image_url":null,"language":"ar","maintext":"أعلنت البلدية عن افتتاح حديقة عامة جديدة في وسط المدينة.\nوتمتد الحديقة على مساحة خمسة هكتارات.","source_domain":"example.com","title":"افتتاح حديقة عامة جديدة","url":"https://example.com/ar/news/1","extra":{"section":"محليات","tags":["حدائق","بلدية"],"rank":{"score":0.75,"pinned":true,"views":12345}},"word_count":42,"is_live":false}'
printf '%s\n' '{"title":"افزایش بارندگی در استان‌های شمالی","maintext":"به گزارش خبرنگار ما، بارش‌ها در هفته‌ی گذشته افزایش یافته است.\nكارشناسان مي‌گويند این روند ادامه دارد.","url":"https://example.ir/fa/news/2","date_publish":"2024-05-04 12:00:00","authors":[],"language":"fa"}'
printf '%s\n' '{"title":"Rain expected","author":"Staff; Wire","hostname":"example.org","date":"2024-05-05","text":"Forecasters expect heavy rain.\n\nResidents are advised to avoid low-lying roads.","comments":null,"url":"https://example.org/en/rain"}'
printf '\n'
printf '%s\n' '{"title": "بدون متن", "abstract":"فقط پاراگراف‌ها",  "paragraphs": ["پاراگراف اول.", "پاراگراف \u062f\u0648\u0645."] ,"cat":"world","subcat":"","tags":["a","ب"],"link":"https://example.ir/news/1400"}'
printf '%s\n' '{"authors":["مراسل الشؤون المحلية","Jane Doe"],"date_download":"2024-05-03 10:00:00","date_modify":null,"date_publish":"2024-05-02 08:30:00","description":"ملخص قصير للخبر","image_url":null,"language":"ar","maintext":"أعلنت البلدية عن افتتاح حديقة عامة جديدة في وسط المدينة.\nوتمتد الحديقة على مساحة خمسة هكتارات.","source_domain":"example.com","title":"افتتاح حديقة عامة جديدة","url":"https://example.com/ar/news/1","extra":{"section":"محليات","tags":["حدائق","بلدية"],"rank":{"score":0.75,"pinned":true,"views":12345}},"word_count":42,"is_live":false}'
printf '%s\n' '{"title":"escapes","maintext":"\u0633\u0644\u0627\u0645 \ud83d\ude00 caf\u00e9 \"quoted\" back\\slash \/ tab\there\r\nzwnj:\u200c rlm:\u200f end","url":"https://example.org/esc"}'
printf '%s\n' '{"url":"https://example.org/nul","maintext":"before\u0000after","title":"NUL inside"}'
printf '%s\n' '{"maintext":null,"text":"The maintext member is null, so text is used.","url":"https://example.org/fallback"}'
printf '%s\n' '{"id":7,"content":"content member as the text","tags":null}'
printf '%s\n' '{"headline":"body member","body":"body member as the text","n":-12,"f":3.5,"e":1e-7,"z":0,"t":true,"fa":false,"o":{},"a":[]}'
printf '%s\n' '{"maintext":["not","a","string"],"url":"https://example.org/list-maintext"}'
printf '%s\n' '{"عنوان":"کلید فارسی","maintext":"متن با کلید غیر لاتین"}'
printf '%s\n' '{"maintext":""}'
printf '%s\n' '{}'
printf '%s\n' '{"title": "بدون متن", "abstract":"فقط پاراگراف‌ها",  "paragraphs": ["پاراگراف اول.", "پاراگراف \u062f\u0648\u0645."] ,"cat":"world","subcat":"","tags":["a","ب"],"link":"https://example.ir/news/1400"}'
printf '%s' '{"url":"https://example.org/last","maintext":"last line has no newline"}'
} > news.jsonl
# CRLF line endings
printf '{"maintext":"crlf one","url":"https://example.org/crlf/1"}\r\n\r\n{"title":"crlf two","text":"line\\r\\nbreaks inside","url":"https://example.org/crlf/2"}\r\n' > crlf.jsonl
# terminal-hostile metadata: ESC, bidi override, newline, C1 control in title/url
printf '%s\n' '{"url":"https://example.org/esc\u001b[2J","title":"red \u001b[31mALERT\u001b[0m \u202egnp.exe\u202c line\nbreak \u009b end","maintext":"hostile metadata"}' > hostile.jsonl
# --text-field: the text is in a member none of the defaults name
printf '%s\n' '{"id":1,"headline":"first","article_body":"Body of the first article."}' \
  '{"id":2,"article_body":"متن مقاله‌ی دوم.","headline":"second"}' > textfield.jsonl
# malformed JSON at line 5 (line 3 blank)
printf '%s\n' '{"maintext":"ok 1"}' '{"maintext":"ok 2"}' '' '{"maintext":"ok 4"}' '{"maintext": "unterminated}' '{"maintext":"ok 6"}' > broken.jsonl
# valid JSON that is not an object, line 2
printf '%s\n' '{"maintext":"ok 1"}' '["an","array"]' > notobject.jsonl
# invalid UTF-8 inside a string, line 2
printf '{"maintext":"ok 1"}\n{"maintext":"bad \377 byte"}\n' > badutf8.jsonl
# integers beyond 64 bits and other number spellings
printf '%s\n' '{"maintext":"numbers","big":12345678901234567890123,"exp":1E+2,"frac":0.1,"i64":9223372036854775807}' > numbers.jsonl

/// The character classes behind spaCy's English prefix, suffix and infix rules
/// (explosion/spaCy, spacy/lang/char_classes.py and spacy/lang/punctuation.py), over
/// Unicode scalars as Python's `re` sees code points.
///
/// `LIST_PUNCT`, `LIST_QUOTES`, `LIST_CURRENCY`, `LIST_UNITS` and `HYPHENS` are copied
/// exactly. `ALPHA`, `ALPHA_LOWER`, `ALPHA_UPPER` and `ICONS` are spaCy's explicit range lists
/// (`SpacyCharacterRanges`, generated from spaCy): scripts without case (Ethiopic, Bengali,
/// Hebrew, Arabic, CJK, ...) are whole blocks in both ALPHA_LOWER and ALPHA_UPPER there,
/// punctuation of those blocks included, which Unicode's properties do not give.
enum SpacyClass {
    /// `LIST_PUNCT`, in rule order (`…`, `……`, `,`, `:`, ...).
    static let punct: [String] = ["…", "……", ",", ":", ";", "!", "?", "¿", "؟", "¡", "(", ")", "[", "]",
                                  "{", "}", "<", ">", "_", "#", "*", "&", "。", "？", "！", "，", "、", "；",
                                  "：", "～", "·", "।", "،", "۔", "؛", "٪"]
    /// `LIST_QUOTES`, in rule order (the ASCII comma is one of them, as in spaCy).
    static let quotes: [String] = ["'", "\"", "”", "“", "`", "‘", "´", "’", "‚", ",", "„", "»", "«", "「",
                                   "」", "『", "』", "（", "）", "〔", "〕", "【", "】", "《", "》", "〈", "〉",
                                   "〈", "〉", "⟦", "⟧"]
    /// `LIST_CURRENCY`, in rule order.
    static let currency: [String] = ["$", "£", "€", "¥", "฿", "US$", "C$", "A$", "₽", "﷼", "₴", "₠", "₡", "₢",
                                     "₣", "₤", "₥", "₦", "₧", "₨", "₩", "₪", "₫", "€", "₭", "₮", "₯", "₰", "₱",
                                     "₲", "₳", "₴", "₵", "₶", "₷", "₸", "₹", "₺", "₻", "₼", "₽", "₾", "₿"]
    /// `LIST_UNITS` (Latin and Cyrillic; spaCy's Arabic units are left out).
    static let units: Set<String> = [
        "km", "km²", "km³", "m", "m²", "m³", "dm", "dm²", "dm³", "cm", "cm²", "cm³", "mm", "mm²", "mm³",
        "ha", "µm", "nm", "yd", "in", "ft", "kg", "g", "mg", "µg", "t", "lb", "oz", "m/s", "km/h", "kmh",
        "mph", "hPa", "Pa", "mbar", "mb", "MB", "kb", "KB", "gb", "GB", "tb", "TB", "T", "G", "M", "K", "%",
        "км", "км²", "км³", "м", "м²", "м³", "дм", "дм²", "дм³", "см", "см²", "см³", "мм", "мм²", "мм³",
        "нм", "кг", "г", "мг", "м/с", "км/ч", "кПа", "Па", "мбар", "Кб", "КБ", "кб", "Мб", "МБ", "мб", "Гб",
        "ГБ", "гб", "Тб", "ТБ",
    ]
    /// The longest literal a suffix rule matches, in code points (punctuation, quotes,
    /// currency, units, `'s`): positions further from the end cannot start a suffix, except
    /// a run of dots.
    static let maxSuffixLength: Int = (punct + quotes + currency + Array(units) + ["'s", "'S", "’s", "’S", "—", "–"])
        .map { $0.unicodeScalars.count }.max() ?? 1

    /// `HYPHENS` as the infix alternation tries them.
    static let hyphens: [String] = ["-", "–", "—", "--", "---", "——", "~"]

    static let punctScalars: Set<Unicode.Scalar> = Set(punct.flatMap { $0.unicodeScalars } + ["|"])
    static let quoteScalars: Set<Unicode.Scalar> = Set(quotes.flatMap { $0.unicodeScalars })

    /// `[0-9]` (ASCII digits only, as in the patterns).
    @inline(__always) static func isDigit(_ u: Unicode.Scalar) -> Bool { u.value >= 48 && u.value <= 57 }

    /// `ALPHA`.
    static func isAlpha(_ u: Unicode.Scalar) -> Bool {
        if u.value < 128 { return (u.value | 0x20) >= 97 && (u.value | 0x20) <= 122 }
        return SpacyCharacterRanges.contains(SpacyCharacterRanges.alpha, u.value)
    }

    /// `ALPHA_LOWER`: lower-case letters and letters of scripts without case.
    static func isLower(_ u: Unicode.Scalar) -> Bool {
        if u.value < 128 { return u.value >= 97 && u.value <= 122 }
        return SpacyCharacterRanges.contains(SpacyCharacterRanges.lower, u.value)
    }

    /// `ALPHA_UPPER`: upper-case letters and letters of scripts without case.
    static func isUpper(_ u: Unicode.Scalar) -> Bool {
        if u.value < 128 { return u.value >= 65 && u.value <= 90 }
        return SpacyCharacterRanges.contains(SpacyCharacterRanges.upper, u.value)
    }

    /// `ICONS`: spaCy's list of other symbols (dingbats, emoji, `°`, `©`).
    static func isIcon(_ u: Unicode.Scalar) -> Bool {
        u.value >= 0xA6 && SpacyCharacterRanges.contains(SpacyCharacterRanges.icons, u.value)
    }

    /// Python's `str.isspace` for one code point.
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default: return false
        }
    }

    /// spaCy's `is_punct`: every code point in a Unicode punctuation category (`P*`).
    static func isPunctuation(_ s: [Unicode.Scalar]) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.properties.generalCategory.isPunctuation }
    }

    /// The sentencizer's `default_punct_chars` (spacy/pipeline/sentencizer.pyx).
    static let sentenceEnders: Set<String> = [
        "!", ".", "?", "։", "؟", "۔", "܀", "܁", "܂", "߹", "।", "॥", "၊", "။", "።", "፧", "፨", "᙮", "᜵", "᜶",
        "᠃", "᠉", "᥄", "᥅", "᪨", "᪩", "᪪", "᪫", "᭚", "᭛", "᭞", "᭟", "᰻", "᰼", "᱾", "᱿", "‼", "‽", "⁇", "⁈",
        "⁉", "⸮", "⸼", "꓿", "꘎", "꘏", "꛳", "꛷", "꡶", "꡷", "꣎", "꣏", "꤯", "꧈", "꧉", "꩝", "꩞", "꩟", "꫰",
        "꫱", "꯫", "﹒", "﹖", "﹗", "！", "．", "？", "𐩖", "𐩗", "𑁇", "𑁈", "𑂾", "𑂿", "𑃀", "𑃁", "𑅁", "𑅂", "𑅃",
        "𑇅", "𑇆", "𑇍", "𑇞", "𑇟", "𑈸", "𑈹", "𑈻", "𑈼", "𑊩", "𑑋", "𑑌", "𑗂", "𑗃", "𑗉", "𑗊", "𑗋", "𑗌",
        "𑗍", "𑗎", "𑗏", "𑗐", "𑗑", "𑗒", "𑗓", "𑗔", "𑗕", "𑗖", "𑗗", "𑙁", "𑙂", "𑜼", "𑜽", "𑜾", "𑩂", "𑩃",
        "𑪛", "𑪜", "𑱁", "𑱂", "𖩮", "𖩯", "𖫵", "𖬷", "𖬸", "𖭄", "𛲟", "𝪈", "｡", "。",
    ]
}

extension Unicode.GeneralCategory {
    var isMark: Bool { self == .nonspacingMark || self == .spacingMark || self == .enclosingMark }
    var isPunctuation: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }
}

"""The locales App Store Connect takes, checked at preview (shared by every localization type).

Apple's list is the "App Store localizations" reference in App Store Connect Help (Reference >
App Store localizations): a language and the code the API takes in ``locale``. Apple offers no
endpoint for it; fastlane keeps the same codes in ``deliver/lib/deliver/languages.rb`` (50 since
Apple added Bangla, Gujarati, Kannada, Malayalam, Marathi, Odia, Punjabi, Slovenian, Tamil,
Telugu and Urdu in 2025). TestFlight's test information (beta app and build localizations)
takes the same codes.
"""

from __future__ import annotations

# code -> the language as Apple's reference names it
APP_STORE_LOCALES: dict[str, str] = {
    "ar-SA": "Arabic",
    "bn-BD": "Bangla",
    "ca": "Catalan",
    "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)",
    "hr": "Croatian",
    "cs": "Czech",
    "da": "Danish",
    "nl-NL": "Dutch",
    "en-AU": "English (Australia)",
    "en-CA": "English (Canada)",
    "en-GB": "English (U.K.)",
    "en-US": "English (U.S.)",
    "fi": "Finnish",
    "fr-FR": "French",
    "fr-CA": "French (Canada)",
    "de-DE": "German",
    "el": "Greek",
    "gu-IN": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "kn-IN": "Kannada",
    "ko": "Korean",
    "ms": "Malay",
    "ml-IN": "Malayalam",
    "mr-IN": "Marathi",
    "no": "Norwegian",
    "or-IN": "Odia",
    "pl": "Polish",
    "pt-BR": "Portuguese (Brazil)",
    "pt-PT": "Portuguese (Portugal)",
    "pa-IN": "Punjabi",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl-SI": "Slovenian",
    "es-MX": "Spanish (Mexico)",
    "es-ES": "Spanish (Spain)",
    "sv": "Swedish",
    "ta-IN": "Tamil",
    "te-IN": "Telugu",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur-PK": "Urdu",
    "vi": "Vietnamese",
}

_BY_FOLDED = {code.casefold(): code for code in APP_STORE_LOCALES}


def app_store_locale(value: object) -> str | None:
    """A code from Apple's list, spelt as Apple spells it; the reason names the close ones."""
    if isinstance(value, str) and value in APP_STORE_LOCALES:
        return None
    text = value if isinstance(value, str) else repr(value)
    folded = text.replace("_", "-").casefold()
    if folded in _BY_FOLDED:
        return f"{text!r} is spelt {_BY_FOLDED[folded]!r} by App Store Connect"
    language = folded.split("-")[0]
    close = [code for code in APP_STORE_LOCALES if code.casefold().split("-")[0] == language]
    hint = f"; for this language Apple takes {', '.join(close)}" if close else ""
    return f"{text!r} is not a locale App Store Connect takes{hint} (Apple's list: App Store Connect Help, App Store localizations)"


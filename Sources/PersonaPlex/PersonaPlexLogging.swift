/// Log severity for the injected logger.
public enum PersonaPlexLogLevel: Int, Sendable, Comparable {
    case debug, info, warning, error

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Injected logger; the library never prints on its own. Prompts are never logged.
public typealias PersonaPlexLogger = @Sendable (PersonaPlexLogLevel, String) -> Void

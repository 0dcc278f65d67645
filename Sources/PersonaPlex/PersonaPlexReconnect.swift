import NIOCore
import NIOPosix
import Realtime

/// Exponential backoff for `PersonaPlexClient.connectWithRetry`.
public struct ReconnectPolicy: Sendable, Equatable {
    /// Attempts in total, the first included; `nil` retries forever.
    public var maxAttempts: Int?
    /// Delay before the second attempt, in seconds.
    public var initialDelay: Double
    /// Factor applied to the delay after every failed attempt.
    public var multiplier: Double
    /// Upper bound of the delay, in seconds.
    public var maxDelay: Double
    /// Random spread of each delay, as a fraction (0.2 = ±20 %).
    public var jitter: Double
    /// Also retry after the server closed during warm-up. Off by default: that is almost always a bad
    /// `text_prompt`/`voice_prompt`, and retrying it in a loop only hammers the server.
    public var retryAfterWarmUpClose: Bool

    public init(
        maxAttempts: Int? = 5, initialDelay: Double = 0.5, multiplier: Double = 2, maxDelay: Double = 30,
        jitter: Double = 0.2, retryAfterWarmUpClose: Bool = false
    ) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
        self.jitter = jitter
        self.retryAfterWarmUpClose = retryAfterWarmUpClose
    }

    /// A single attempt.
    public static let none = ReconnectPolicy(maxAttempts: 1)

    /// Delay before attempt `attempt + 1` after `attempt` failures (1-based), without jitter.
    public func baseDelay(afterFailedAttempt attempt: Int) -> Double {
        let exponent = Double(max(0, attempt - 1))
        return min(maxDelay, initialDelay * pow(multiplier, exponent))
    }

    /// `baseDelay` with jitter applied, drawn from `generator`.
    public func delay<G: RandomNumberGenerator>(afterFailedAttempt attempt: Int, using generator: inout G) -> Double {
        let base = baseDelay(afterFailedAttempt: attempt)
        guard jitter > 0 else { return base }
        return max(0, base * (1 + Double.random(in: -jitter...jitter, using: &generator)))
    }

    /// Whether `error` is worth another attempt under this policy. Configuration errors never are.
    public func shouldRetry(_ error: PersonaPlexError) -> Bool {
        switch error {
        case .connectionRefused, .connectionFailed, .handshakeTimeout, .serverClosedSession, .serverSilent:
            return true
        case .closedDuringWarmUp:
            return retryAfterWarmUpClose
        default:
            return false
        }
    }
}

extension PersonaPlexClient {
    /// Connects a new client per attempt until one goes live, backing off per `policy`.
    /// Stops at the first error the policy does not retry, or when attempts run out (throws the last error).
    /// `onRetry(attempt, error, delaySeconds)` is called before each wait; `sleep(nanoseconds)` waits (tests pass one
    /// that records the delays instead of sleeping).
    public static func connectWithRetry(
        configuration: PersonaPlexConfiguration,
        policy: ReconnectPolicy = ReconnectPolicy(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: PersonaPlexLogger? = nil,
        onStateChange: (@Sendable (PersonaPlexState) -> Void)? = nil,
        onMessage: (@Sendable (PersonaPlexMessage) -> Void)? = nil,
        onRetry: (@Sendable (Int, PersonaPlexError, Double) -> Void)? = nil,
        sleep: @Sendable (UInt64) async throws -> Void = { try await Task.sleep(nanoseconds: $0) }
    ) async throws -> PersonaPlexClient {
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            let client = PersonaPlexClient(
                configuration: configuration, eventLoopGroup: eventLoopGroup,
                logger: logger, onStateChange: onStateChange, onMessage: onMessage)
            do {
                try await client.connect()
                return client
            } catch {
                await client.close()
                let failure =
                    error as? PersonaPlexError
                    ?? .connectionFailed(
                        host: configuration.endpoint.host, port: configuration.endpoint.port, reason: "\(error)")
                let exhausted = policy.maxAttempts.map { attempt >= $0 } ?? false
                guard policy.shouldRetry(failure), !exhausted, !Task.isCancelled else { throw failure }
                let delay = policy.delay(afterFailedAttempt: attempt, using: &generator)
                onRetry?(attempt, failure, delay)
                logger?(.warning, "PersonaPlex: attempt \(attempt) failed (\(failure)); retrying in \(delay) s")
                try await sleep(Nanoseconds.from(seconds: delay))
            }
        }
    }
}

import Realtime

/// Discord's REST rate limits as the headers describe them: routes map to buckets (`X-RateLimit-Bucket`), each
/// bucket counted per top-level resource; a request never goes into a bucket known to be empty; a route whose
/// bucket is still unknown sends one request at a time until the first answer tells; a global 429 stops every
/// route until `retry_after`.
actor RESTRateLimiter {
    struct Bucket: Equatable {
        var limit: Int
        var remaining: Int
        var resetAt: UInt64
        /// Requests sent and not answered yet: an answer's `remaining` does not count them.
        var inFlight = 0
    }

    /// What one response said about limits.
    struct Headers: Sendable {
        var bucket: String?
        var limit: Int?
        var remaining: Int?
        /// Seconds from now (`X-RateLimit-Reset-After`).
        var resetAfter: Double?
        var isGlobal: Bool
        var scope: String?
    }

    /// `resetAt` of a window opened locally before any answer said when it ends.
    static let unknownReset = UInt64.max
    private let scheduler: any GatewayScheduler
    private var routeBuckets: [String: String] = [:]
    private var buckets: [String: Bucket] = [:]
    private var unknownInFlight: Set<String> = []
    private var globalUntil: UInt64 = 0

    init(scheduler: any GatewayScheduler) { self.scheduler = scheduler }

    private func bucketKey(_ route: RESTRoute) -> String? {
        routeBuckets[route.name].map { "\($0):\(route.major)" }
    }

    private var now: UInt64 { scheduler.clock.nowNanoseconds() }

    /// Returns when `route` may be sent; reserves one request of its bucket.
    func acquire(_ route: RESTRoute) async throws {
        while true {
            let current = now
            if globalUntil > current {
                try await scheduler.sleep(until: globalUntil)
                continue
            }
            if let key = bucketKey(route), var bucket = buckets[key] {
                if bucket.remaining <= 0 {
                    if bucket.resetAt == Self.unknownReset {
                        // A new window was opened locally; its answers will tell when it ends.
                        guard bucket.inFlight == 0 else {
                            try await scheduler.sleep(nanoseconds: 10_000_000)
                            continue
                        }
                        bucket.remaining = 1
                    } else if current >= bucket.resetAt {
                        // The window passed: a full bucket whose end is unknown until an answer arrives.
                        bucket.remaining = bucket.limit
                        bucket.resetAt = Self.unknownReset
                    } else {
                        try await scheduler.sleep(until: bucket.resetAt)
                        continue
                    }
                }
                bucket.remaining -= 1
                bucket.inFlight += 1
                buckets[key] = bucket
                return
            }
            let pendingKey = "\(route.name):\(route.major)"
            if unknownInFlight.contains(pendingKey) {
                try await scheduler.sleep(nanoseconds: 10_000_000)
                continue
            }
            unknownInFlight.insert(pendingKey)
            return
        }
    }

    /// Records what a response said. Returns how long to wait before retrying when it was a 429.
    @discardableResult
    func update(_ route: RESTRoute, status: Int, headers: Headers, retryAfter: Double?) -> UInt64? {
        let current = now
        unknownInFlight.remove("\(route.name):\(route.major)")
        if let hash = headers.bucket { routeBuckets[route.name] = hash }
        let inFlight = finish(route)
        if let key = bucketKey(route), let limit = headers.limit, let remaining = headers.remaining,
            let resetAfter = headers.resetAfter
        {
            let resetAt = Nanoseconds.adding(current, Nanoseconds.from(seconds: resetAfter))
            // Requests still in flight were reserved but are not in this answer's count.
            let unreserved = max(0, remaining - inFlight)
            if var existing = buckets[key], existing.resetAt > current {
                // Answers to concurrent requests arrive in any order: keep the lower count.
                existing.remaining = min(existing.remaining, unreserved)
                existing.resetAt = existing.resetAt == Self.unknownReset ? resetAt : max(existing.resetAt, resetAt)
                existing.limit = limit
                buckets[key] = existing
            } else {
                buckets[key] = Bucket(limit: limit, remaining: unreserved, resetAt: resetAt, inFlight: inFlight)
            }
        }
        guard status == 429 else { return nil }
        let waitSeconds = retryAfter ?? headers.resetAfter ?? 1
        let wait = Nanoseconds.from(seconds: min(max(waitSeconds, 0), 3600))
        if headers.isGlobal || headers.scope == "global" {
            globalUntil = max(globalUntil, Nanoseconds.adding(current, wait))
        } else if let key = bucketKey(route) {
            var bucket = buckets[key] ?? Bucket(limit: 1, remaining: 0, resetAt: 0)
            bucket.remaining = 0
            let until = Nanoseconds.adding(current, wait)
            bucket.resetAt = bucket.resetAt == Self.unknownReset ? until : max(bucket.resetAt, until)
            buckets[key] = bucket
        }
        return wait
    }

    /// The request failed before an answer: free the unknown-bucket slot.
    func abandon(_ route: RESTRoute) {
        unknownInFlight.remove("\(route.name):\(route.major)")
        _ = finish(route)
    }

    /// One request of `route`'s bucket was answered (or abandoned); returns how many are still in flight.
    private func finish(_ route: RESTRoute) -> Int {
        guard let key = bucketKey(route), var bucket = buckets[key] else { return 0 }
        bucket.inFlight = max(0, bucket.inFlight - 1)
        buckets[key] = bucket
        return bucket.inFlight
    }

    func bucket(for route: RESTRoute) -> Bucket? { bucketKey(route).flatMap { buckets[$0] } }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Failures to open a connection (nothing was sent, so any request may be retried), in a few words a user can
/// act on instead of NIO's nested error dumps.
enum ConnectFailure {
    /// A short reason when `error` means no connection (TCP or TLS) could be made, else `nil`.
    static func reason(_ error: any Error) -> String? {
        switch error {
        case let error as DiscordError:
            if case let .connectionFailed(_, reason) = error { return reason }
            return nil
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return "cannot resolve the host name \(error.host)"
            }
            return error.connectionErrors.first.map { reason($0.error) ?? "\($0.error)" } ?? "cannot connect"
        case let error as IOError:
            return errnoReason(error.errnoCode)
        case let error as ChannelError:
            if case .connectTimeout = error { return "the connection timed out" }
            return nil
        case let error as HTTPClientError where error == .connectTimeout:
            return "the connection timed out"
        case let error as HTTPClientError where error == .tlsHandshakeTimeout:
            return "the TLS handshake timed out"
        case let error as NIOSSLError:
            return tlsReason(error)
        case let error as NIOSSLExtraError:
            return "TLS failed: \(error)"
        default:
            return nil
        }
    }

    private static func errnoReason(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused (nothing listens there)"
        case ENETUNREACH: return "the network is unreachable"
        case EHOSTUNREACH: return "the host is unreachable"
        case ETIMEDOUT: return "the connection timed out"
        case ECONNRESET: return "the connection was reset"
        default: return String(cString: strerror(code))
        }
    }

    private static func tlsReason(_ error: NIOSSLError) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS handshake failed: the server's certificate is not trusted (system roots and "
                + "DISCORD_CA_FILE, if set)"
        }
        if case .handshakeFailed = error { return "TLS handshake failed: \(text.prefix(160))" }
        return "TLS failed: \(text.prefix(160))"
    }
}

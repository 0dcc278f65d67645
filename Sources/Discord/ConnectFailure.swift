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
            return connectErrnoReason(error.errnoCode)
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
            // Hostname and certificate checks, made during the handshake.
            return "TLS handshake failed: \(String(describing: error).prefix(160))"
        default:
            return nil
        }
    }

    /// Only the errors of `connect(2)`: a reset or broken pipe may come after the request was sent, when a retry
    /// could repeat it.
    private static func connectErrnoReason(_ code: Int32) -> String? {
        switch code {
        case ECONNREFUSED: return "connection refused (nothing listens there)"
        case ENETUNREACH: return "the network is unreachable"
        case EHOSTUNREACH: return "the host is unreachable"
        case ETIMEDOUT: return "the connection timed out"
        default: return nil
        }
    }

    /// Handshake failures only: other TLS errors (an unclean shutdown, …) can come after the request was sent.
    private static func tlsReason(_ error: NIOSSLError) -> String? {
        guard case .handshakeFailed = error else { return nil }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS handshake failed: the server's certificate is not trusted (system roots and "
                + "DISCORD_CA_FILE, if set)"
        }
        return "TLS handshake failed: \(text.prefix(160))"
    }
}

import NIOCore
import NIOPosix
import NIOSSL

/// TLS context construction and error classification for `wss://`.
enum PersonaPlexTLS {
    /// Builds the client context: full verification against the system roots plus `caFile`,
    /// or no verification at all when `insecureSkipVerify` is set.
    static func makeContext(_ options: PersonaPlexTLSOptions) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if options.insecureSkipVerify {
            configuration.certificateVerification = .none
        } else if let caFile = options.caFile {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !certificates.isEmpty else {
                    throw PersonaPlexError.caFileUnreadable(path: caFile, reason: "no PEM certificate in the file")
                }
                configuration.additionalTrustRoots = [.certificates(certificates)]
            } catch let error as PersonaPlexError {
                throw error
            } catch {
                throw PersonaPlexError.caFileUnreadable(path: caFile, reason: String(describing: error))
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw PersonaPlexError.tlsFailure(reason: "cannot create the TLS context: \(error)")
        }
    }

    /// The client handler; SNI is sent only for host names (IP literals are verified against IP SANs).
    static func makeHandler(context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        let isIPLiteral = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isIPLiteral ? nil : host)
    }

    /// `true` if `error` comes from the TLS layer before the handshake completed.
    static func isHandshakeError(_ error: Error) -> Bool {
        if error is NIOSSLExtraError { return true }
        if let sslError = error as? NIOSSLError {
            switch sslError {
            case .handshakeFailed, .unableToValidateCertificate, .noCertificateToValidate, .cannotMatchULabel,
                .cannotFindPeerIP:
                return true
            default:
                return false
            }
        }
        return error is BoringSSLError
    }

    /// `true` when the TLS layer choked on a plain-text answer (an HTTP server on the other end):
    /// BoringSSL reports it as a wrong record version or an HTTP request/response.
    static func looksLikePlaintextReply(_ error: Error) -> Bool {
        let text = String(describing: error).uppercased()
        return text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST")
            || text.contains("HTTPS_PROXY_REQUEST")
            || text.contains("PACKET_LENGTH_TOO_LONG")
    }
}

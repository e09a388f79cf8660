using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Millrace.Redis.Connections;

internal sealed partial class RedisConnection
{
    /// <summary>
    /// Opens a connection and runs the handshake (HELLO or AUTH, CLIENT SETNAME, SELECT, PING) within
    /// the connect timeout. Throws <see cref="RedisAuthenticationException"/> for refused credentials
    /// and <see cref="RedisConnectionException"/> for everything else, each naming the server.
    /// </summary>
    public static async Task<RedisConnection> ConnectAsync(
        RedisEndpoint endpoint, RedisOptions options, ConnectionRole role, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ConnectTimeout);
        Stream? stream = null;
        RedisConnection? connection = null;
        try
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                await socket.ConnectAsync(endpoint.Host, endpoint.Port, deadline.Token).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Tls && role != ConnectionRole.Sentinel)
            {
                stream = await AuthenticateTlsAsync(stream, endpoint, options, deadline.Token).ConfigureAwait(false);
            }

            connection = new RedisConnection(stream, endpoint, role, options.CommandTimeout);
            connection.StartLoops();
            await connection.HandshakeAsync(options, role, deadline.Token).ConfigureAwait(false);
            return connection;
        }
        catch (Exception e)
        {
            await DisposeQuietly(connection, stream).ConfigureAwait(false);
            var error = Explain(e, endpoint, options, cancellationToken);
            if (error is null)
            {
                throw;
            }

            throw error;
        }
    }

    /// <summary>Turns a low-level failure into one that names the server; null keeps the original.</summary>
    private static RedisConnectionException? Explain(Exception e, RedisEndpoint endpoint, RedisOptions options, CancellationToken cancellationToken) => e switch
    {
        RedisConnectionException => null,
        RedisTimeoutException te => new RedisConnectionException($"Could not connect to Redis at {endpoint}: {te.Message}", te),
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        OperationCanceledException => new RedisConnectionException(
            $"Could not connect to Redis at {endpoint} within {options.ConnectTimeout.TotalMilliseconds:0} ms (connect timeout)."),
        SocketException se => new RedisConnectionException($"Could not connect to Redis at {endpoint}: {se.Message}.", se),
        AuthenticationException ae => new RedisConnectionException($"TLS handshake with Redis at {endpoint} failed: {ae.Message}", ae),
        IOException io => new RedisConnectionException($"Could not connect to Redis at {endpoint}: {io.Message}", io),
        _ => null,
    };

    private static async ValueTask DisposeQuietly(RedisConnection? connection, Stream? stream)
    {
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        else if (stream is not null)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<Stream> AuthenticateTlsAsync(Stream stream, RedisEndpoint endpoint, RedisOptions options, CancellationToken cancellationToken)
    {
        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = options.TlsHost ?? endpoint.Host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (options.TlsCaFile is not null)
        {
            // Trust exactly the given authority (a private CA, as Redis deployments usually have).
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(options.TlsCaFile);
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(authorities);
            authentication.CertificateChainPolicy = policy;
        }

        try
        {
            await tls.AuthenticateAsClientAsync(authentication, cancellationToken).ConfigureAwait(false);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandshakeAsync(RedisOptions options, ConnectionRole role, CancellationToken cancellationToken)
    {
        var user = role == ConnectionRole.Sentinel ? null : options.User;
        var password = role == ConnectionRole.Sentinel ? options.SentinelPassword : options.Password;
        var commands = new List<RedisCommand>(4);
        if (options.Protocol == RedisProtocol.Resp3 && role != ConnectionRole.Sentinel)
        {
            var hello = new List<RedisArg> { 3 };
            if (password is not null)
            {
                hello.AddRange(["AUTH", user ?? "default", password]);
            }

            if (options.ClientName is not null)
            {
                hello.AddRange(["SETNAME", options.ClientName]);
            }

            commands.Add(new RedisCommand("HELLO", [.. hello]));
        }
        else
        {
            if (password is not null)
            {
                commands.Add(new RedisCommand("AUTH", user is null ? [password] : [user, password]));
            }

            if (options.ClientName is not null && role != ConnectionRole.Sentinel)
            {
                commands.Add(new RedisCommand("CLIENT", ["SETNAME", options.ClientName]));
            }
        }

        if (options.Database != 0 && role != ConnectionRole.Sentinel)
        {
            commands.Add(new RedisCommand("SELECT", [options.Database]));
        }

        commands.Add(new RedisCommand("PING", []));
        // The connect deadline (the token) bounds the handshake; the command timeout must not cut in first.
        var replies = await SendBatchAsync(commands, (long)options.ConnectTimeout.TotalMilliseconds, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < replies.Length; i++)
        {
            if (!replies[i].IsError)
            {
                continue;
            }

            var error = replies[i].AsString()!;
            var who = user ?? "default";
            if (IsAuthError(error))
            {
                throw new RedisAuthenticationException(error.StartsWith("NOAUTH", StringComparison.Ordinal)
                    ? $"Redis at {Endpoint} requires a password and none was given (set REDIS_PASSWORD or password=): {error}"
                    : $"Redis at {Endpoint} refused the login of user '{who}': {error}");
            }

            throw new RedisConnectionException($"Redis at {Endpoint} refused {commands[i]} during the handshake: {error}");
        }
    }

    private static bool IsAuthError(string error) =>
        error.StartsWith("WRONGPASS", StringComparison.Ordinal)
        || error.StartsWith("NOAUTH", StringComparison.Ordinal)
        || error.StartsWith("NOPERM", StringComparison.Ordinal)
        || error.Contains("AUTH", StringComparison.Ordinal) && error.Contains("password", StringComparison.OrdinalIgnoreCase);
}

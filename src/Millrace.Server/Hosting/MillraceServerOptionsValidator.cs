using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>Checks the server settings at start; every message names the setting (Millrace:Server:...).</summary>
internal sealed class MillraceServerOptionsValidator : IValidateOptions<MillraceServerOptions>
{
    internal const int MinKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, MillraceServerOptions options)
    {
        var failures = new List<string>();
        const string Section = MillraceServerOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Urls))
        {
            failures.Add($"{Section}:Urls is empty; give at least one URL such as http://127.0.0.1:8080.");
        }
        else
        {
            foreach (var url in options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(url.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                    || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    failures.Add($"{Section}:Urls has '{url}', which is not an http:// or https:// URL.");
                }
            }
        }

        if (options.AuditMaxLength is < 10 or > 10_000_000)
        {
            failures.Add($"{Section}:AuditMaxLength must be between 10 and 10000000 (was {options.AuditMaxLength}).");
        }

        if (options.SampleInterval < TimeSpan.FromMilliseconds(100) || options.SampleInterval > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{Section}:SampleInterval must be between 00:00:00.1 and 00:05:00 (was {options.SampleInterval}).");
        }

        if (options.WorkerFetchStaleAfter <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:WorkerFetchStaleAfter must be positive (was {options.WorkerFetchStaleAfter}).");
        }

        if (options.Auth.SessionLifetime <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:Auth:SessionLifetime must be positive (was {options.Auth.SessionLifetime}).");
        }

        if (options.Otlp.Endpoint is { } otlp && (!otlp.IsAbsoluteUri || (otlp.Scheme != Uri.UriSchemeHttp && otlp.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"{Section}:Otlp:Endpoint is '{otlp}'; give an http:// or https:// URL such as http://127.0.0.1:4318.");
        }

        if (options.Otlp.Protocol is not ("HttpProtobuf" or "Grpc"))
        {
            failures.Add($"{Section}:Otlp:Protocol is '{options.Otlp.Protocol}'; use HttpProtobuf or Grpc.");
        }

        if (options.Otlp.MetricsInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"{Section}:Otlp:MetricsInterval must be at least 00:00:00.1 (was {options.Otlp.MetricsInterval}).");
        }

        try
        {
            QueueName.Validate(options.DefaultQueue);
        }
        catch (ArgumentException e)
        {
            failures.Add($"{Section}:DefaultQueue: {e.Message}");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var secrets = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Auth.Keys.Count; i++)
        {
            var key = options.Auth.Keys[i];
            var path = $"{Section}:Auth:Keys:{i}";
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                failures.Add($"{path}:Name is empty; name each key (the name is written to the audit log).");
            }
            else if (!names.Add(key.Name))
            {
                failures.Add($"{path}:Name '{key.Name}' is used by another key; names must be unique.");
            }

            if (string.IsNullOrEmpty(key.Key) || key.Key.Length < MinKeyLength)
            {
                failures.Add($"{path}:Key is {(string.IsNullOrEmpty(key.Key) ? "empty" : $"{key.Key.Length} characters")}; use at least {MinKeyLength} random characters.");
            }
            else if (!secrets.Add(key.Key))
            {
                failures.Add($"{path}:Key is the same as another key's; every key must be different.");
            }

            if (!Enum.IsDefined(key.Role))
            {
                failures.Add($"{path}:Role is {(int)key.Role}; use Viewer, Operator or Admin.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

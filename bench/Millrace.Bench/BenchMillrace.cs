using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace.Bench;

/// <summary>Millrace as an application sets it up, shared by the benchmarks that run the queue.</summary>
internal static class BenchMillrace
{
    /// <summary>AddMillrace on a service collection under the run's key prefix, warnings logged to stderr.</summary>
    public static ServiceProvider Build(RedisEndpoint endpoint, string prefix, Action<MillraceBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        configure(services.AddMillrace(o =>
        {
            o.Redis = endpoint.ToString();
            o.KeyPrefix = prefix;
        }));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>Starts the hosted services (MillraceWorkers: checks Redis, starts the consumers), as a host would.</summary>
    public static async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        foreach (var hosted in services.GetServices<IHostedService>())
        {
            await hosted.StartAsync(cancellationToken);
        }
    }

    /// <summary>Stops them in reverse order.</summary>
    public static async Task StopAsync(IServiceProvider services)
    {
        foreach (var hosted in services.GetServices<IHostedService>().Reverse())
        {
            await hosted.StopAsync(CancellationToken.None);
        }
    }
}

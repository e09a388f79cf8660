using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Millrace;

/// <summary>
/// Registers the publisher: the plain <see cref="MessagePublisher"/>, or, when
/// <see cref="MillraceOptions.BackupJournal"/> is set, the <see cref="JournalingPublisher"/> around it
/// plus the hosted <see cref="BackupJournalReplayer"/>. The journal is opened (and checked) when the
/// host starts, so a damaged journal stops the start with its error.
/// </summary>
internal static class BackupJournalServices
{
    public static void AddPublisher(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new MessagePublisher(sp.GetRequiredService<MillraceRuntime>(), sp.GetService<ILogger<MessagePublisher>>()));
        services.TryAddSingleton(sp => Options(sp) is { } options
            ? BackupJournal.Open(options.Directory, options.MaxBytes, sp.GetRequiredService<TimeProvider>(), Logger<BackupJournal>(sp))
            : throw new InvalidOperationException("No backup journal is configured (MillraceOptions.BackupJournal is null)."));
        services.TryAddSingleton<IMessagePublisher>(sp => Options(sp) is { } options
            ? new JournalingPublisher(
                sp.GetRequiredService<MessagePublisher>(),
                sp.GetRequiredService<BackupJournal>(),
                sp.GetRequiredService<MillraceRuntime>(),
                options,
                Logger<JournalingPublisher>(sp))
            : sp.GetRequiredService<MessagePublisher>());
        services.AddHostedService(sp => Options(sp) is { } options
            ? new BackupJournalReplayer(
                sp.GetRequiredService<BackupJournal>(),
                sp.GetRequiredService<MessagePublisher>(),
                sp.GetRequiredService<MillraceRuntime>(),
                options,
                Logger<BackupJournalReplayer>(sp))
            : new BackupJournalReplayer(null, sp.GetRequiredService<MessagePublisher>(), sp.GetRequiredService<MillraceRuntime>(), null, Logger<BackupJournalReplayer>(sp)));
    }

    private static BackupJournalOptions? Options(IServiceProvider services) =>
        services.GetRequiredService<IOptions<MillraceOptions>>().Value.BackupJournal;

    private static ILogger<T> Logger<T>(IServiceProvider services) =>
        services.GetService<ILogger<T>>() ?? NullLogger<T>.Instance;
}

using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Millrace.Server.Tests.Browser;

/// <summary>
/// Debian's headless chromium driven through Debian's chromedriver (no browser download: Selenium
/// Manager is never asked, both paths are given). deploy/browser/install.sh installs them; the
/// test runs it when they are missing.
/// </summary>
public sealed class Chromium : IDisposable
{
    public const string Binary = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    private Chromium(ChromeDriver driver) => Web = driver;

    public ChromeDriver Web { get; }

    public static async Task<Chromium> StartAsync()
    {
        if (!File.Exists(Binary) || !File.Exists(Driver))
        {
            var install = Process.Start(new ProcessStartInfo(Path.Combine(RepositoryRoot(), "deploy", "browser", "install.sh")) { RedirectStandardError = true })!;
            var errors = await install.StandardError.ReadToEndAsync();
            await install.WaitForExitAsync();
            Assert.True(install.ExitCode == 0 && File.Exists(Binary), $"chromium is missing and deploy/browser/install.sh failed ({install.ExitCode}): {errors}");
        }

        var options = new ChromeOptions { BinaryLocation = Binary };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-dev-shm-usage", "--window-size=1440,900", "--force-device-scale-factor=1");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new Chromium(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)));
    }

    public IWebElement Wait(string css, TimeSpan? within = null) =>
        Waiter(within).Until(d => d.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Displayed))
            ?? throw new TimeoutException($"Expected a visible '{css}'.");

    /// <summary>A wait that retries while the page re-renders (elements replaced under the probe go stale).</summary>
    private WebDriverWait Waiter(TimeSpan? within)
    {
        var wait = new WebDriverWait(Web, within ?? TimeSpan.FromSeconds(20));
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException));
        return wait;
    }

    public T Until<T>(Func<IWebDriver, T> condition, string what, TimeSpan? within = null)
    {
        try
        {
            return Waiter(within).Until(condition);
        }
        catch (WebDriverTimeoutException e)
        {
            var page = Web.FindElements(By.CssSelector("#view")).FirstOrDefault()?.Text ?? Web.PageSource;
            throw new TimeoutException($"Expected {what}. Page: {Web.Url}\n{page[..Math.Min(2000, page.Length)]}", e);
        }
    }

    public void SignIn(Uri address, string key)
    {
        Web.Navigate().GoToUrl(address);
        Wait("#signin-key").SendKeys(key);
        Web.FindElement(By.CssSelector("#signin-submit")).Click();
        Wait("#who");
    }

    public void Screenshot(string name)
    {
        var directory = Path.Combine(RepositoryRoot(), "docs", "images");
        Directory.CreateDirectory(directory);
        Web.GetScreenshot().SaveAsFile(Path.Combine(directory, name));
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Millrace.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("Millrace.slnx not found above the test's directory.");
    }

    public void Dispose()
    {
        Web.Quit();
        Web.Dispose();
    }
}

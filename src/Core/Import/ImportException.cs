namespace SelfTaught.Core.Import;

/// <summary>
/// An import cannot proceed. The message names the problem in terms a user can act on (which file, which column,
/// which setting); when thrown by <see cref="DatasetImporter.ImportAsync(long, ImportRequest, IProgress{ImportProgress}?, CancellationToken)"/>
/// the dataset and its rows have already been removed.
/// </summary>
public sealed class ImportException : Exception
{
    /// <summary>Creates the exception with a user-facing message.</summary>
    public ImportException(string message) : base(message) { }

    /// <summary>Creates the exception with a user-facing message and its cause.</summary>
    public ImportException(string message, Exception? innerException) : base(message, innerException) { }
}

# SelfTaught web app: docker build -t selftaught . && docker run -p 8080:8080 -v selftaught-data:/app/data selftaught

# ---- build ----
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
# Restore first from the build settings and project files only, so the package layer is reused until they change.
# Only the app's projects are restored (not SelfTaught.sln): the test projects would pull in Playwright (~800 MB) for
# nothing. A new project under src/ that Web references needs its own line here.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/Core/Core.csproj src/Core/
COPY src/Inference/Inference.csproj src/Inference/
COPY src/Jobs/Jobs.csproj src/Jobs/
COPY src/Web/Web.csproj src/Web/
RUN dotnet restore src/Web/Web.csproj
COPY src/ src/
RUN dotnet publish src/Web/Web.csproj -c Release --no-restore -o /app/publish

# ---- runtime ----
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# The aspnet image has no curl or wget; curl serves the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The default database (ConnectionStrings:SelfTaught = "Data Source=data/selftaught.db") is relative to the content
# root /app, so it lands in this volume. Create it owned by the image's non-root "app" user before declaring it.
RUN mkdir -p /app/data && chown "$APP_UID:$APP_UID" /app/data
VOLUME /app/data
COPY --from=build /app/publish .
USER $APP_UID
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
# First port of ASPNETCORE_HTTP_PORTS (a list separated by ';'), so the check follows a port override at run time.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://localhost:${ASPNETCORE_HTTP_PORTS%%;*}/health" || exit 1
ENTRYPOINT ["dotnet", "SelfTaught.Web.dll"]

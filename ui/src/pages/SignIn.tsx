import { Anchor, Button, Center, Code, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, errorMessage, setToken } from "../api/client";

/** Sign in with an API token (`assay token create --name me`), checked against /api/users/me. */
export function SignInPage() {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const [params] = useSearchParams();

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const token = value.trim();
    if (!token) {
      setError("Paste an API token");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await fetch("/api/users/me", { headers: { Authorization: `Bearer ${token}` } });
      if (!r.ok) throw new ApiError(r.status, errorMessage(await r.json().catch(() => null), r.status));
      setToken(token);
      const next = params.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("/signin") ? next : "/", { replace: true });
    } catch (err) {
      setError(err instanceof Error ? `This token was refused: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" radius="md" w={460} maw="100%">
        <form onSubmit={submit} noValidate>
          <Stack>
            <Title order={1} size="h2">
              Sign in to Assay
            </Title>
            <Text size="sm">
              Paste an API token. Create one on the server with <Code>assay token create --name me</Code> (it prints
              the token on its last line).
            </Text>
            <PasswordInput
              label="API token"
              value={value}
              onChange={(e) => setValue(e.currentTarget.value)}
              error={error}
              autoFocus
              autoComplete="off"
            />
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
            <Anchor href="/api/docs" size="sm">
              API documentation
            </Anchor>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

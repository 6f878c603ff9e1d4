import { Alert, Anchor, Button, Center, Code, Paper, PasswordInput, Stack, Tabs, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { api, setToken, unwrap } from "../api/client";

/** Sign in with email and password (POST /api/auth/sign-in), or with an API token
 * (`assay token create --name me`) checked against /api/users/me. */
export function SignInPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const enter = (token: string) => {
    setToken(token);
    const next = params.get("next");
    navigate(next && next.startsWith("/") && !next.startsWith("/signin") ? next : "/", { replace: true });
  };
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" radius="md" w={460} maw="100%">
        <Stack>
          <Title order={1} size="h2">
            Sign in to Assay
          </Title>
          {params.get("notice") === "admin-ready" && (
            <Alert color="green" role="status" title="The first Admin is set up">
              Sign in with the email and password you just chose.
            </Alert>
          )}
          <Tabs defaultValue="password" keepMounted={false}>
            <Tabs.List grow mb="md">
              <Tabs.Tab value="password">Email and password</Tabs.Tab>
              <Tabs.Tab value="token">API token</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="password">
              <PasswordForm onToken={enter} />
            </Tabs.Panel>
            <Tabs.Panel value="token">
              <TokenForm onToken={enter} />
            </Tabs.Panel>
          </Tabs>
          <Anchor href="/api/docs" size="sm">
            API documentation
          </Anchor>
        </Stack>
      </Paper>
    </Center>
  );
}

function PasswordForm({ onToken }: { onToken: (token: string) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError("Enter your email and password");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await unwrap<{ token: string }>(api.POST("/api/auth/sign-in", { body: { email: email.trim(), password } }));
      onToken(answer.token);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <TextInput label="Email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoFocus />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={error}
        />
        <Button type="submit" loading={busy}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}

function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
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
      await unwrap(api.GET("/api/users/me", { headers: { Authorization: `Bearer ${token}` } }));
      onToken(token);
    } catch (err) {
      setError(err instanceof Error ? `This token was refused: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <Text size="sm">
          Paste an API token. Create one on the server with <Code>assay token create --name me</Code> (it prints the
          token on its last line).
        </Text>
        <PasswordInput label="API token" value={value} onChange={(e) => setValue(e.currentTarget.value)} error={error} autoComplete="off" />
        <Button type="submit" loading={busy}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}

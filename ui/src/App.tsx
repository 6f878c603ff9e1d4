import { Alert, AppShell, Burger, Button, Group, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { Link, Navigate, Route, Routes, useLocation } from "react-router-dom";
import type { ReactNode } from "react";
import { signOut, useMe, useToken } from "./auth";
import { Loading } from "./components/common";
import { ActivityPage } from "./pages/Activity";
import { InsightsPage } from "./pages/Insights";
import { TeamsPage } from "./pages/Teams";
import { TokensPage } from "./pages/Tokens";
import { UsersPage } from "./pages/Users";
import { AnomaliesPage } from "./pages/Anomalies";
import { AnomalyPage } from "./pages/Anomaly";
import { CheckFormPage } from "./pages/CheckForm";
import { ChecksPage } from "./pages/Checks";
import { ContainerPage } from "./pages/Container";
import { DatastoreFormPage } from "./pages/DatastoreForm";
import { DatastorePage } from "./pages/Datastore";
import { DatastoresPage } from "./pages/Datastores";
import { OperationPage } from "./pages/Operation";
import { OperationsPage } from "./pages/Operations";
import { OverviewPage } from "./pages/Overview";
import { SchedulesPage } from "./pages/Schedules";
import { SignInPage } from "./pages/SignIn";

const NAV = [
  { to: "/", label: "Overview" },
  { to: "/datastores", label: "Datastores" },
  { to: "/checks", label: "Checks" },
  { to: "/anomalies", label: "Anomalies" },
  { to: "/operations", label: "Operations" },
  { to: "/schedules", label: "Schedules" },
  { to: "/insights", label: "Insights" },
  { to: "/tokens", label: "API tokens" },
];

/** Admin pages: only shown in the navigation to Admins. */
const ADMIN_NAV = [
  { to: "/users", label: "Users" },
  { to: "/teams", label: "Teams" },
  { to: "/activity", label: "Activity" },
];

/** An Admin page: anyone else (a typed URL) reads that they may not see it. */
function AdminOnly({ what, children }: { what: string; children: ReactNode }) {
  const me = useMe();
  if (me.isLoading) return <Loading />;
  if (!me.data?.is_admin) {
    return (
      <>
        <Title order={1} size="h2" mb="md">
          Not allowed
        </Title>
        <Alert color="gray" title="Admins only" role="status">
          Only Admins manage {what}; you are signed in as {me.data ? `${me.data.name} (${me.data.role})` : "someone else"}.{" "}
          <Link to="/">Go to the overview</Link>.
        </Alert>
      </>
    );
  }
  return <>{children}</>;
}

export function App() {
  const token = useToken();
  const location = useLocation();
  if (!token) {
    if (location.pathname !== "/signin") {
      const next = location.pathname + location.search;
      return <Navigate to={`/signin?next=${encodeURIComponent(next)}`} replace />;
    }
    return <SignInPage />;
  }
  return <Shell />;
}

function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const me = useMe(true);
  const queryClient = useQueryClient();
  const active = (to: string) =>
    to === "/" ? location.pathname === "/" : location.pathname === to || location.pathname.startsWith(`${to}/`);
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 210, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={2} size="h3">
              <Link to="/" style={{ color: "inherit", textDecoration: "none" }}>
                Assay
              </Link>
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {me.data && (
              <Text size="sm" visibleFrom="xs">
                {me.data.name} ({me.data.role})
              </Text>
            )}
            <Button
              variant="default"
              size="xs"
              onClick={() => void signOut(queryClient)}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {NAV.map((n) => (
          <NavLink
            key={n.to}
            component={Link}
            to={n.to}
            label={n.label}
            variant="filled"
            active={active(n.to)}
            onClick={close}
            aria-current={active(n.to) ? "page" : undefined}
          />
        ))}
        {me.data?.is_admin && (
          <>
            <Text size="xs" fw={700} tt="uppercase" c="dimmed" px="sm" pt="sm" pb={4} component="div" id="admin-nav">
              Admin
            </Text>
            {ADMIN_NAV.map((n) => (
              <NavLink
                key={n.to}
                component={Link}
                to={n.to}
                label={n.label}
                variant="filled"
                active={active(n.to)}
                onClick={close}
                aria-current={active(n.to) ? "page" : undefined}
              />
            ))}
          </>
        )}
        <NavLink component="a" href="/api/docs" label="API docs" />
      </AppShell.Navbar>
      <AppShell.Main id="main">
        <Routes>
          <Route path="/" element={<OverviewPage />} />
          <Route path="/signin" element={<Navigate to="/" replace />} />
          <Route path="/datastores" element={<DatastoresPage />} />
          <Route path="/datastores/new" element={<DatastoreFormPage />} />
          <Route path="/datastores/:id" element={<DatastorePage />} />
          <Route path="/datastores/:id/edit" element={<DatastoreFormPage />} />
          <Route path="/containers/:id" element={<ContainerPage />} />
          <Route path="/checks" element={<ChecksPage />} />
          <Route path="/checks/new" element={<CheckFormPage />} />
          <Route path="/checks/:id" element={<CheckFormPage />} />
          <Route path="/anomalies" element={<AnomaliesPage />} />
          <Route path="/anomalies/:id" element={<AnomalyPage />} />
          <Route path="/operations" element={<OperationsPage />} />
          <Route path="/operations/:id" element={<OperationPage />} />
          <Route path="/schedules" element={<SchedulesPage />} />
          <Route path="/insights" element={<InsightsPage />} />
          <Route path="/tokens" element={<TokensPage />} />
          <Route path="/users" element={<AdminOnly what="users"><UsersPage /></AdminOnly>} />
          <Route path="/teams" element={<AdminOnly what="teams"><TeamsPage /></AdminOnly>} />
          <Route path="/activity" element={<AdminOnly what="the activity log"><ActivityPage /></AdminOnly>} />
          <Route path="*" element={<Text>No page here. <Link to="/">Go to the overview</Link>.</Text>} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
